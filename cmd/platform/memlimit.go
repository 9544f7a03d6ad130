package main

import (
	"log/slog"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"platform/internal/config"
)

// setMemoryLimit sets the Go runtime's soft memory limit (issue 20): the
// configured GOMEMLIMIT when there is one, else 90 % of the cgroup memory
// limit of the container (automemlimit), else none. The garbage collector
// then works harder as the heap nears the container's limit instead of the
// kernel killing the process; the limit is logged at start.
func setMemoryLimit(cfg config.Config, log *slog.Logger) {
	limit, _ := cfg.MemLimit() // checked by config.Load
	if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info("memory limit", "source", "GOMEMLIMIT", "bytes", limit)
		return
	}
	set, err := memlimit.Set(
		memlimit.WithRatio(0.9),
		memlimit.WithProvider(memlimit.FromCgroup),
		memlimit.WithLogger(slog.New(slog.DiscardHandler)),
	)
	switch {
	case err != nil || set <= 0:
		log.Info("memory limit", "source", "none", "reason", "no cgroup memory limit")
	default:
		log.Info("memory limit", "source", "cgroup", "bytes", set)
	}
}
