//go:build driverbench && !unix

package driverbench

import "time"

// cpuTime is not measured outside Unix; the cpu metrics then read +Inf.
func cpuTime() time.Duration { return 0 }
