package main

import (
	"errors"
	"log/slog"
)

func newV3Gateway(cfg config, logger *slog.Logger) (*gatewaySetup, error) {
	return nil, errors.New("-api v3: not yet")
}
