// Command platform is the online learning platform's API server: one binary
// that serves the HTTP API and manages its database schema.
//
//	platform [serve]                 run the server (default)
//	platform migrate up              apply pending migrations
//	platform migrate down N          revert N migrations
//	platform migrate version         print the schema version
//	platform migrate force V         mark the schema as version V (repair)
//	platform files migrate           copy STATIC_DIR into the S3 bucket
//	platform init-env                write a local-development .env
//	platform version                 print the build version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
}

// run dispatches the subcommand; it is main without the process globals, so
// tests can drive the whole program.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, environ, stderr)
	case "migrate":
		return migrateCmd(ctx, args, environ, stdout, stderr)
	case "files":
		return filesCmd(ctx, args, environ, stdout, stderr)
	case "init-env":
		return initEnvCmd(args, environ, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, buildVersion())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  platform [serve]            run the HTTP server (migrates first unless MIGRATE_ON_START=false)
  platform migrate up         apply pending migrations
  platform migrate down N     revert the last N migrations
  platform migrate version    print the schema version
  platform migrate force V    mark the schema as version V without running anything
  platform files migrate      copy the files of STATIC_DIR into the S3 bucket (FILE_STORE=s3)
  platform init-env [-database-url URL] [-file .env] [-force]
                              write a local-development .env (mode 600: random SECRET_KEY,
                              an admin with a generated password); an existing one is only
                              completed where values are empty, unless -force
  platform version            print the build version
`
