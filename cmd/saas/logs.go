package main

import (
	"context"
	"errors"
	"io"
)

// runLogs runs sidelog's operator commands against the configured log
// database.
func runLogs(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	return errors.New("logs: the sidelog operator CLI is not available yet; it will run `sidelog <command> --db " + cfg.LogDB + "`")
}
