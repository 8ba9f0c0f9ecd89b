package release_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/relkit/relkit/release"
)

// hitCounter is in-memory state an app wants to keep across upgrades.
type hitCounter struct {
	mu   sync.Mutex
	hits map[string]int
}

// handoff hands the counts over in a versioned JSON format: format 2 is
// {"hits": {...}}, format 1 (written by older releases) was a bare map.
func (c *hitCounter) handoff() release.Handoff {
	return release.Handoff{
		Format: 2,
		Export: func(context.Context) ([]byte, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			return json.Marshal(map[string]any{"hits": c.hits})
		},
		Import: func(_ context.Context, format int, data []byte) error {
			var v struct{ Hits map[string]int }
			switch format {
			case 1:
				if err := json.Unmarshal(data, &v.Hits); err != nil {
					return err
				}
			case 2:
				if err := json.Unmarshal(data, &v); err != nil {
					return err
				}
			default:
				return fmt.Errorf("state format %d is newer than this release reads", format)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.hits = v.Hits
			return nil
		},
	}
}

// An App carries its in-memory state to the release that replaces it at
// upgrade, downgrade and restart: the running release Exports, the new one
// Imports before it serves. Here both ends run in one process.
func ExampleHandoff() {
	old := &hitCounter{hits: map[string]int{"/": 41, "/about": 2}}
	data, _ := old.handoff().Export(context.Background())

	next := &hitCounter{}
	app := release.App[Config]{Name: "hello", Handoff: next.handoff()}
	if err := app.Handoff.Import(context.Background(), 2, data); err != nil {
		fmt.Println(err)
	}
	fmt.Println(next.hits["/"], next.hits["/about"])
	fmt.Println(app.Handoff.Import(context.Background(), 3, data))
	// Output:
	// 41 2
	// state format 3 is newer than this release reads
}
