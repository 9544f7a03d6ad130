package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"platform/internal/db"
)

// migrateCmd runs `platform migrate …`. It loads the same configuration as
// serve, so the whole config must be valid (SECRET_KEY included), though
// only DATABASE_URL and the log settings are used.
func migrateCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("migrate: want up | down N | version | force V")
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	url := cfg.DatabaseURL
	number := func() (int, error) {
		if len(args) != 2 {
			return 0, fmt.Errorf("migrate %s: want one number", args[0])
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("migrate %s: %q is not a non-negative number", args[0], args[1])
		}
		return n, nil
	}
	switch args[0] {
	case "up":
		return db.Migrate(ctx, url, log)
	case "down":
		n, err := number()
		if err != nil {
			return err
		}
		return db.MigrateDown(ctx, url, n, log)
	case "version":
		v, dirty, err := db.MigrateVersion(ctx, url)
		if err != nil {
			return err
		}
		if dirty {
			fmt.Fprintf(stdout, "%d (dirty)\n", v)
		} else {
			fmt.Fprintln(stdout, v)
		}
		return nil
	case "force":
		n, err := number()
		if err != nil {
			return err
		}
		return db.MigrateForce(ctx, url, n)
	}
	return fmt.Errorf("migrate: unknown action %q (want up | down N | version | force V)", args[0])
}
