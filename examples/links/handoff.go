package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/relkit/relkit/release"
)

// counters is the state links hands to the release that replaces it, in
// format 1.
type counters struct {
	Created   int64 `json:"created"`
	Redirects int64 `json:"redirects"`
}

// handoff carries the counters to the next release at an upgrade,
// downgrade or restart (release.App.Handoff), so that `links rpc stats`
// counts from the start of the system, not from the last upgrade. A
// release that meets a format it does not know counts afresh rather than
// refusing to take over.
func (svc *service) handoff() release.Handoff {
	return release.Handoff{
		Format: 1,
		Export: func(context.Context) ([]byte, error) {
			return json.Marshal(counters{Created: svc.created.Load(), Redirects: svc.redirects.Load()})
		},
		Import: func(_ context.Context, format int, data []byte) error {
			if format != 1 {
				return nil
			}
			var c counters
			if err := json.Unmarshal(data, &c); err != nil {
				return fmt.Errorf("counters handed over: %w", err)
			}
			svc.created.Add(c.Created)
			svc.redirects.Add(c.Redirects)
			return nil
		},
	}
}
