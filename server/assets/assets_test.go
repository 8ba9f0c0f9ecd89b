package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

var (
	css    = strings.Repeat("body { color: #333; margin: 0 auto; }\n", 100)
	js     = strings.Repeat("function hello(name) { return 'Hello, ' + name; }\n", 100)
	vendor = strings.Repeat("/* vendor */ var x = 1;\n", 100)
	png    = string(bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 200))
)

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:32]
}

func gz(t testing.TB, s, comment string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Comment = comment
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func testFS(t testing.TB) fstest.MapFS {
	return fstest.MapFS{
		"app.css":       {Data: []byte(css)},
		"js/app.min.js": {Data: []byte(js)},
		"logo.png":      {Data: []byte(png)},
		"vendor.js":     {Data: []byte(vendor)},
		"vendor.js.gz":  {Data: []byte(gz(t, vendor, "prebuilt"))},
		"tiny.txt":      {Data: []byte("hi")},
	}
}

func newAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := New(testFS(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPathAndManifest(t *testing.T) {
	t.Parallel()
	a := newAssets(t)
	tests := []struct{ name, want string }{
		{"app.css", "/assets/app-" + digestOf(css) + ".css"},
		{"/app.css", "/assets/app-" + digestOf(css) + ".css"},
		{"js/app.min.js", "/assets/js/app.min-" + digestOf(js) + ".js"},
		{"missing.css", "/assets/missing.css"},
	}
	for _, tt := range tests {
		if got := a.Path(tt.name); got != tt.want {
			t.Errorf("Path(%q): want %q, got %q", tt.name, tt.want, got)
		}
	}
	if _, ok := a.Lookup("missing.css"); ok {
		t.Error("want Lookup to report a missing asset")
	}
	if want, got := []string{"app.css", "js/app.min.js", "logo.png", "tiny.txt", "vendor.js"}, a.Names(); !slices.Equal(want, got) {
		t.Errorf("want assets %q (vendor.js.gz is vendor.js's variant), got %q", want, got)
	}

	b, err := json.Marshal(a.Manifest())
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Version int
		Latest  map[string]string
		Digests map[string]struct {
			LogicalPath string `json:"logical_path"`
			Size        int64
			Digest      string
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	digested := "app-" + digestOf(css) + ".css"
	if m.Version != 1 || m.Latest["app.css"] != digested {
		t.Errorf("want version 1 and latest app.css -> %s, got %s", digested, b)
	}
	if d := m.Digests[digested]; d.LogicalPath != "app.css" || d.Size != int64(len(css)) || d.Digest != digestOf(css) {
		t.Errorf("want the digest entry for app.css, got %+v", d)
	}
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gunzip(t *testing.T, b []byte) (string, string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("want a gzip body: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), zr.Comment
}

func TestServe(t *testing.T) {
	t.Parallel()
	a := newAssets(t)
	digested := a.Path("app.css")
	oldDigest := "/assets/app-" + strings.Repeat("0", 32) + ".css"
	tests := []struct {
		name       string
		method     string
		path       string
		hdr        []string
		wantCode   int
		wantCache  string
		wantBody   string
		wantGzip   bool
		wantETag   string
		wantHeader map[string]string
	}{
		{name: "digested is immutable", path: digested, wantCode: 200, wantCache: CacheImmutable, wantBody: css,
			wantETag: `"` + digestOf(css) + `"`, wantHeader: map[string]string{"Content-Type": "text/css; charset=utf-8", "Vary": "Accept-Encoding"}},
		{name: "undigested is revalidated", path: "/assets/app.css", wantCode: 200, wantCache: CacheRevalidate, wantBody: css,
			wantETag: `"` + digestOf(css) + `"`},
		{name: "undigested 304 on matching ETag", path: "/assets/app.css", hdr: []string{"If-None-Match", `"` + digestOf(css) + `"`},
			wantCode: 304, wantCache: CacheRevalidate},
		{name: "changed ETag gets the content", path: "/assets/app.css", hdr: []string{"If-None-Match", `"stale"`},
			wantCode: 200, wantCache: CacheRevalidate, wantBody: css},
		{name: "gzip when accepted", path: digested, hdr: []string{"Accept-Encoding", "br, gzip;q=0.8"},
			wantCode: 200, wantCache: CacheImmutable, wantBody: css, wantGzip: true, wantETag: `"` + digestOf(css) + `.gz"`},
		{name: "gzip 304 on its own ETag", path: "/assets/app.css", hdr: []string{"Accept-Encoding", "gzip", "If-None-Match", `"` + digestOf(css) + `.gz"`},
			wantCode: 304, wantCache: CacheRevalidate},
		{name: "gzip refused with q=0", path: digested, hdr: []string{"Accept-Encoding", "gzip;q=0, *"},
			wantCode: 200, wantBody: css, wantCache: CacheImmutable},
		{name: "images are not gzipped", path: a.Path("logo.png"), hdr: []string{"Accept-Encoding", "gzip"},
			wantCode: 200, wantBody: png, wantCache: CacheImmutable, wantHeader: map[string]string{"Content-Type": "image/png", "Vary": ""}},
		{name: "tiny files are not gzipped", path: a.Path("tiny.txt"), hdr: []string{"Accept-Encoding", "gzip"},
			wantCode: 200, wantBody: "hi", wantCache: CacheImmutable},
		{name: "precompressed sibling", path: a.Path("vendor.js"), hdr: []string{"Accept-Encoding", "gzip"},
			wantCode: 200, wantBody: vendor, wantGzip: true, wantCache: CacheImmutable},
		{name: "nested digested", path: a.Path("js/app.min.js"), wantCode: 200, wantBody: js, wantCache: CacheImmutable,
			wantHeader: map[string]string{"Content-Type": "text/javascript; charset=utf-8"}},
		{name: "outdated digest gets current content, revalidated", path: oldDigest, wantCode: 200, wantBody: css, wantCache: CacheRevalidate},
		{name: "HEAD", method: "HEAD", path: digested, wantCode: 200, wantCache: CacheImmutable,
			wantHeader: map[string]string{"Content-Length": fmt.Sprint(len(css))}},
		{name: "unknown", path: "/assets/nope.css", wantCode: 404},
		{name: "the .gz is not an asset", path: "/assets/vendor.js.gz", wantCode: 404},
		{name: "outside the prefix", path: "/app.css", wantCode: 404},
		{name: "dot-dot", path: "/assets/../app.css", wantCode: 404},
		{name: "POST", method: "POST", path: digested, wantCode: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			w := get(t, a, method, tt.path, tt.hdr...)
			if w.Code != tt.wantCode {
				t.Fatalf("want %d, got %d", tt.wantCode, w.Code)
			}
			if tt.wantCache != "" {
				if got := w.Header().Get("Cache-Control"); got != tt.wantCache {
					t.Errorf("Cache-Control: want %q, got %q", tt.wantCache, got)
				}
			}
			if tt.wantETag != "" {
				if got := w.Header().Get("ETag"); got != tt.wantETag {
					t.Errorf("ETag: want %s, got %s", tt.wantETag, got)
				}
			}
			for k, want := range tt.wantHeader {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s: want %q, got %q", k, want, got)
				}
			}
			gotGzip := w.Header().Get("Content-Encoding") == "gzip"
			if gotGzip != tt.wantGzip {
				t.Fatalf("gzip: want %v, got %v", tt.wantGzip, gotGzip)
			}
			if tt.wantBody == "" {
				return
			}
			body := w.Body.String()
			if gotGzip {
				var comment string
				body, comment = gunzip(t, w.Body.Bytes())
				if tt.name == "precompressed sibling" && comment != "prebuilt" {
					t.Errorf("want the embedded vendor.js.gz served, got a gzip stream with comment %q", comment)
				}
				if w.Body.Len() >= len(tt.wantBody) {
					t.Errorf("want the gzip variant smaller than %d bytes, got %d", len(tt.wantBody), w.Body.Len())
				}
			}
			if body != tt.wantBody {
				t.Errorf("want the file's content (%d bytes), got %d bytes", len(tt.wantBody), len(body))
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	if _, err := New(fstest.MapFS{}, Options{Prefix: "static"}); err == nil || !strings.Contains(err.Error(), `must start and end with "/"`) {
		t.Errorf("want a prefix error, got %v", err)
	}
	a, err := New(fstest.MapFS{}, Options{Prefix: "/static/"})
	if err != nil || a.Path("x.css") != "/static/x.css" {
		t.Errorf("want an empty asset set under /static/, got %v", err)
	}
}

func TestDigestedNames(t *testing.T) {
	t.Parallel()
	d := strings.Repeat("ab", 16)
	tests := []struct{ name, digested string }{
		{"app.css", "app-" + d + ".css"},
		{"js/app.min.js", "js/app.min-" + d + ".js"},
		{"LICENSE", "LICENSE-" + d},
		{".well-known/x", ".well-known/x-" + d},
	}
	for _, tt := range tests {
		if got := digestedName(tt.name, d); got != tt.digested {
			t.Errorf("digestedName(%q): want %q, got %q", tt.name, tt.digested, got)
		}
		if got, ok := undigest(tt.digested); !ok || got != tt.name {
			t.Errorf("undigest(%q): want %q, got %q, %v", tt.digested, tt.name, got, ok)
		}
	}
	for _, n := range []string{"app.css", "app-123.css", "jquery-3.7.1.js", "x-" + strings.Repeat("zz", 16) + ".js"} {
		if got, ok := undigest(n); ok {
			t.Errorf("undigest(%q): want no digest found, got %q", n, got)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"identity", false},
		{"x-gzip", true},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.header); got != tt.want {
			t.Errorf("acceptsGzip(%q): want %v, got %v", tt.header, tt.want, got)
		}
	}
}

// textFS returns n text files of size bytes each, shaped like minified CSS
// and JavaScript: identifiers from a small vocabulary, so gzip finds about
// the redundancy it finds in real bundles.
func textFS(n, size int) fstest.MapFS {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"function", "return", "var", "this", "props", "state", "div", "class", "color", "margin",
		"padding", "width", "height", "display", "flex", "none", "const", "let", "if", "else", "null", "true"}
	fsys := fstest.MapFS{}
	for i := range n {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteString([]string{"(", ")", "{", "}", ";", ":", ".", " ", "=", ","}[rng.IntN(10)])
			if rng.IntN(8) == 0 {
				fmt.Fprintf(&b, "%x", rng.Uint32())
			}
		}
		fsys[fmt.Sprintf("js/bundle%02d.js", i)] = &fstest.MapFile{Data: []byte(b.String()[:size])}
	}
	return fsys
}

// BenchmarkNew measures the startup cost of digesting 4 MB of assets
// (32 files of 128 KiB).
func BenchmarkNew(b *testing.B) {
	fsys := textFS(32, 128<<10)
	b.SetBytes(32 * 128 << 10)
	for b.Loop() {
		if _, err := New(fsys, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewAndPrecompressAll is what gzipping everything at startup
// would cost, for comparison with BenchmarkNew.
func BenchmarkNewAndPrecompressAll(b *testing.B) {
	fsys := textFS(32, 128<<10)
	b.SetBytes(32 * 128 << 10)
	for b.Loop() {
		a, err := New(fsys, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range a.logical {
			if _, err := a.gzipped(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkServeGzip measures serving a cached gzip variant.
func BenchmarkServeGzip(b *testing.B) {
	a, err := New(textFS(1, 128<<10), Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", a.Path("js/bundle00.js"), nil)
	r.Header.Set("Accept-Encoding", "gzip")
	a.ServeHTTP(httptest.NewRecorder(), r) // compress once, outside the timing
	for b.Loop() {
		a.ServeHTTP(httptest.NewRecorder(), r)
	}
}
