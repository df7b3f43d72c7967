package sign

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWebhookReproducesKhipusVectors checks the notification 3.0 signature
// against ../../testdata/webhook-vectors.json, the first of which is
// Khipu's documented example.
func TestWebhookReproducesKhipusVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/webhook-vectors.json")
	require.NoError(t, err)
	var file struct {
		Vectors []struct {
			Name, Secret, T, Body, Header, Signature string
		}
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.Len(t, file.Vectors, 2)
	for _, v := range file.Vectors {
		ms, err := strconv.ParseInt(v.T, 10, 64)
		require.NoError(t, err)
		assert.Equal(t, v.Signature, Webhook(v.Secret, ms, []byte(v.Body)), v.Name)
		assert.NotEqual(t, v.Signature, Webhook(v.Secret+"x", ms, []byte(v.Body)), v.Name)
		assert.NotEqual(t, v.Signature, Webhook(v.Secret, ms+1, []byte(v.Body)), v.Name)
	}
}
