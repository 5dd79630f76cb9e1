package cli

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar on stderr, or nothing when stderr is not a
// terminal (a log file or a pipe must not fill with redraws).
type progress struct {
	bar     *progressbar.ProgressBar
	pending int
}

func (c *CLI) progress(total int64, what string) *progress {
	if !c.IsTerminal(c.Stderr) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(c.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

// add counts n more records done; the bar is updated every thousand.
func (p *progress) add(n int) {
	if p.bar == nil {
		return
	}
	if p.pending += n; p.pending >= 1000 {
		_ = p.bar.Add(p.pending)
		p.pending = 0
	}
}

// finish clears the bar.
func (p *progress) finish() {
	if p.bar == nil {
		return
	}
	_ = p.bar.Add(p.pending)
	_ = p.bar.Finish()
}
