package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestShopRefusesToStartWhenItCouldNotTakePayments(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(name string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == name {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name string
		cfg  config
		want string
	}{
		{"an unknown API version", config{api: "v4", getenv: env()}, "want v2 or v3"},
		{"v2 with a receiver id but no secret", config{api: "v2", getenv: env("KHIPU_RECEIVER_ID", "1")}, "KHIPU_SECRET"},
		{"v2 live without credentials", config{api: "v2", live: true, getenv: env()}, "KHIPU_RECEIVER_ID and KHIPU_SECRET"},
		{"v2 at a Khipu URL without credentials", config{api: "v2", khipuURL: "http://127.0.0.1:1/api/2.0", getenv: env()}, "KHIPU_RECEIVER_ID"},
		{"v3 with an API key but no webhook secret", config{api: "v3", getenv: env("KHIPU_API_KEY", "k")}, "KHIPU_WEBHOOK_SECRET"},
		{"v3 live without credentials", config{api: "v3", live: true, getenv: env()}, "KHIPU_API_KEY"},
		{
			// Khipu could not notify the shop, and every order would
			// stay unpaid.
			"real Khipu without a public URL",
			config{api: "v2", getenv: env("KHIPU_RECEIVER_ID", "1", "KHIPU_SECRET", "s")}, "-public-url",
		},
		{"real Khipu v3 with a relative public URL", config{api: "v3", publicURL: "/shop", getenv: env("KHIPU_API_KEY", "k", "KHIPU_WEBHOOK_SECRET", "s")}, "-public-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.addr, tt.cfg.db = "127.0.0.1:0", sqliteTestDSN(t)
			err := serve(context.Background(), quiet, tt.cfg)
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tt.want)
			}
		})
	}
}
