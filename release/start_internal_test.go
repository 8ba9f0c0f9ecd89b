package release

import "testing"

func TestSupervised(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name      string
		assembled bool
		supervise *bool
		want      bool
	}{
		{"assembled release: supervised", true, nil, true},
		{"assembled release, RELEASE_SUPERVISE=false: one process", true, &no, false},
		{"development build: one process", false, nil, false},
		{"development build, RELEASE_SUPERVISE=true: supervised", false, &yes, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&releaseSettings{Supervise: tt.supervise}).supervised(tt.assembled); tt.want != got {
				t.Fatalf("want %v, got %v", tt.want, got)
			}
		})
	}
}
