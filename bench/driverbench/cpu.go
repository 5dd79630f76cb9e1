//go:build driverbench && unix

package driverbench

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used so far.
// The machines are shared and busy, so besides wall time the benchmarks
// report work per CPU-second, which other processes disturb less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
