//go:build !unix

package sqlite

import (
	"context"
	"net/url"
	"path/filepath"
	"sync"
)

// locks serializes migration runs on one file within this process. Without
// flock(2), runs from several processes on one file are not serialized:
// run migrate from one process at a time.
var locks sync.Map // absolute path -> chan struct{}

type fileLock struct {
	ch   chan struct{}
	held bool
}

func newFileLock(dbPath string, _ url.Values) *fileLock {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		abs = dbPath
	}
	ch, _ := locks.LoadOrStore(abs, make(chan struct{}, 1))
	return &fileLock{ch: ch.(chan struct{})}
}

func (l *fileLock) lock(ctx context.Context) error {
	if l.held {
		return nil
	}
	select {
	case l.ch <- struct{}{}:
		l.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *fileLock) unlock() error {
	if l.held {
		l.held = false
		<-l.ch
	}
	return nil
}
