// Command counter counts requests in memory and hands the count to the
// release that replaces it (release.App.Handoff). The upgrade tests build
// it as 1.0.0 and, with -tags format2, as 2.0.0, whose state format is
// newer.
//
//	POST /   count one
//	GET /    "counter VSN count=N"
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

var count atomic.Int64

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "counter", Server: true,
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, _ *slog.Logger) (http.Handler, error) {
			version := release.InfoFrom(ctx).Version
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					count.Add(1)
				}
				fmt.Fprintf(w, "counter %s count=%d\n", version, count.Load())
			}), nil
		},
		Handoff: release.Handoff{
			Format: format,
			Export: func(context.Context) ([]byte, error) {
				return []byte(strconv.FormatInt(count.Load(), 10)), nil
			},
			Import: func(_ context.Context, f int, data []byte) error {
				if f > format {
					return fmt.Errorf("state format %d is newer than this release reads (%d)", f, format)
				}
				n, err := strconv.ParseInt(string(data), 10, 64)
				if err != nil {
					return err
				}
				count.Store(n)
				return nil
			},
		},
	})
}
