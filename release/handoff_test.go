package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/relspec"
)

func handoffRunner(h Handoff, env map[string]string) *runner {
	return newRunner(App[struct{}]{Name: "app", Version: "1.0.0", Handoff: h}.plain(), nil, env, nil, nil, nil)
}

func TestExportState(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name     string
		h        Handoff
		want     *control.Handoff
		wantFail string
	}{
		{name: "no hook hands over nothing", h: Handoff{}},
		{name: "state with its format", h: Handoff{Format: 3, Export: func(context.Context) ([]byte, error) { return []byte("n=5"), nil }},
			want: &control.Handoff{Format: 3, Data: []byte("n=5")}},
		{name: "export error", h: Handoff{Export: func(context.Context) ([]byte, error) { return nil, errors.New("locked") }},
			wantFail: "Handoff.Export of app 1.0.0: locked"},
		{name: "over MaxSize", h: Handoff{MaxSize: 4, Export: func(context.Context) ([]byte, error) { return []byte("12345"), nil }},
			wantFail: "returned 5 bytes, more than Handoff.MaxSize (4)"},
		{name: "bounded by Timeout", h: Handoff{Timeout: 10 * time.Millisecond, Export: func(ctx context.Context) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}, wantFail: "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := handoffRunner(tt.h, nil).exportState(context.Background(), log)
			if tt.wantFail != "" {
				if res.Status != 1 || !strings.Contains(res.Error, tt.wantFail) {
					t.Errorf("want status 1 with %q, got %+v", tt.wantFail, res)
				}
				return
			}
			if res.Status != 0 || (tt.want == nil) != (res.Handoff == nil) || (tt.want != nil && (tt.want.Format != res.Handoff.Format || string(tt.want.Data) != string(res.Handoff.Data))) {
				t.Errorf("want status 0 and %+v, got %+v", tt.want, res)
			}
		})
	}
}

func TestImportState(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	file := filepath.Join(t.TempDir(), "state")
	b, _ := json.Marshal(control.Handoff{Format: 2, Data: []byte("n=7")})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{relspec.EnvControlSocket: filepath.Join(t.TempDir(), "gen.sock"), relspec.EnvHandoffFile: file}
	var got string
	record := func(_ context.Context, f int, data []byte) error {
		got = fmt.Sprintf("%s format %d", data, f)
		return nil
	}
	if err := handoffRunner(Handoff{Import: record}, env).importState(context.Background(), log); err != nil || got != "n=7 format 2" {
		t.Errorf("import: want n=7 in format 2, got %q, %v", got, err)
	}
	if err := handoffRunner(Handoff{Import: record}, map[string]string{}).importState(context.Background(), log); err != nil {
		t.Errorf("nothing handed over: want no error, got %v", err)
	}
	if err := handoffRunner(Handoff{}, env).importState(context.Background(), log); err != nil {
		t.Errorf("state handed over to a release without Import: want it ignored, got %v", err)
	}
	refuse := func(context.Context, int, []byte) error { return errors.New("format 2 is too new") }
	if err := handoffRunner(Handoff{Import: refuse}, env).importState(context.Background(), log); err == nil || !strings.Contains(err.Error(), "Handoff.Import of 3 bytes in format 2: format 2 is too new") {
		t.Errorf("refused import: want the boot to fail with Import's error, got %v", err)
	}
	if err := handoffRunner(Handoff{Import: record, MaxSize: 2}, env).importState(context.Background(), log); err == nil || !strings.Contains(err.Error(), "more than the 2 this release accepts") {
		t.Errorf("state over MaxSize: want a refusal, got %v", err)
	}
}
