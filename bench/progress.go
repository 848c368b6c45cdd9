package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress shows how a run is going: on a terminal one line redrawn ~4
// times a second, otherwise a plain line every two seconds.
type progress struct {
	w     io.Writer
	term  bool
	start time.Time

	mu      sync.Mutex
	stopc   chan struct{}
	done    chan struct{}
	running bool
}

func newProgress(w io.Writer, term bool) *progress {
	return &progress{w: w, term: term, start: time.Now()}
}

// run starts showing status: a line of text and a completed fraction (<0
// for none). It does nothing without a writer.
func (p *progress) run(status func() (string, float64)) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return
	}
	p.running = true
	p.stopc, p.done = make(chan struct{}), make(chan struct{})
	every := 2 * time.Second
	if p.term {
		every = 250 * time.Millisecond
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.show(status())
			case <-p.stopc:
				if p.term {
					fmt.Fprint(p.w, "\r\033[K")
				}
				return
			}
		}
	}()
}

func (p *progress) show(text string, frac float64) {
	elapsed := time.Since(p.start).Round(100 * time.Millisecond)
	if !p.term {
		fmt.Fprintf(p.w, "bench: %6s  %s\n", elapsed, text)
		return
	}
	bar := ""
	if frac >= 0 {
		const width = 20
		n := min(max(int(frac*width+0.5), 0), width)
		bar = "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] "
	}
	fmt.Fprintf(p.w, "\r\033[K%s%s  %s", bar, text, elapsed)
}

// stop ends the display and waits for it.
func (p *progress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return
	}
	close(p.stopc)
	<-p.done
	p.running = false
}
