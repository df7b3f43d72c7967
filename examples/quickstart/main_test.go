package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartRunsTheWholeFlowOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, &out, func(string) string { return "" })
	require.NoError(t, err, out.String())
	text := out.String()
	assert.Contains(t, text, `Before paying, Khipu says the payment is "pending"`)
	assert.Contains(t, text, `is "done", 5000 CLP, order order-1001, receiver 12345`)
	assert.Contains(t, text, "It matches the order: deliver order-1001.")
}

func TestQuickstartRefusesHalfTheCredentials(t *testing.T) {
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KHIPU_SECRET")
}

func TestQuickstartRefusesMalformedCredentialsWithoutPrintingThem(t *testing.T) {
	env := map[string]string{"KHIPU_RECEIVER_ID": "not-a-number", "KHIPU_SECRET": "s3cr3t-value"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t-value")
}
