package assets

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cache-Control values.
const (
	// CacheImmutable is sent with digested paths: their content never
	// changes, so browsers and CDNs may keep them for a year without asking.
	CacheImmutable = "public, max-age=31536000, immutable"
	// CacheRevalidate is sent with undigested paths: caches must ask
	// every time, which costs a 304 when the ETag still matches.
	CacheRevalidate = "public, no-cache"
)

// ServeHTTP serves the asset named by the request path under the prefix,
// by its digested name (cached for a year, immutable) or its logical name
// (revalidated with its ETag). A digested name with an outdated digest,
// as an old page may ask for during a deploy, is answered with the current
// content and revalidation instead of a 404. GET and HEAD only.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, a.prefix)
	if !ok || !fs.ValidPath(rel) {
		http.NotFound(w, r)
		return
	}
	cache := CacheImmutable
	f := a.digested[rel]
	if f == nil {
		cache = CacheRevalidate
		f = a.logical[rel]
		if f == nil {
			if name, ok := undigest(rel); ok {
				f = a.logical[name]
			}
		}
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}

	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	etag := `"` + f.digest + `"`
	if a.gzip && (f.compressible || f.gzName != "") {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			gz, err := a.gzipped(f)
			if err != nil {
				http.Error(w, "asset unreadable", http.StatusInternalServerError)
				return
			}
			if gz != nil {
				h.Set("Content-Encoding", "gzip")
				h.Set("ETag", `"`+f.digest+`.gz"`)
				http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(gz))
				return
			}
		}
	}
	h.Set("ETag", etag)
	body, err := a.fsys.Open(f.name)
	if err != nil {
		http.Error(w, "asset unreadable", http.StatusInternalServerError)
		return
	}
	defer body.Close()
	rs, ok := body.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, "asset unreadable", http.StatusInternalServerError)
			return
		}
		rs = bytes.NewReader(b)
	}
	http.ServeContent(w, r, "", time.Time{}, rs)
}

// gzipped returns f's gzip variant, reading the precompressed sibling or
// compressing f once; nil means gzip would not make f smaller.
func (a *Assets) gzipped(f *file) ([]byte, error) {
	f.gzOnce.Do(func() {
		if f.gzName != "" {
			f.gz, f.gzErr = fs.ReadFile(a.fsys, f.gzName)
			return
		}
		src, err := fs.ReadFile(a.fsys, f.name)
		if err != nil {
			f.gzErr = err
			return
		}
		f.gz, f.gzErr = compress(src)
	})
	return f.gz, f.gzErr
}

// minGzipSize is the size under which gzip's overhead outweighs its gain.
const minGzipSize = 256

// compress gzips src at the default level, which on minified text is
// within 2% of the best level's size in two thirds of its time (see
// BenchmarkNewAndPrecompressAll). It returns nil when that saves less than
// a tenth.
func compress(src []byte) ([]byte, error) {
	if len(src) < minGzipSize {
		return nil, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(src); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > len(src)*9/10 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// acceptsGzip reports whether an Accept-Encoding header value admits gzip
// (RFC 9110 §12.5.3): listed with a non-zero quality, or covered by "*".
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}
