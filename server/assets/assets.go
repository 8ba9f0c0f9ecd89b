package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
)

// DefaultPrefix is the URL path assets are served under when
// Options.Prefix is empty.
const DefaultPrefix = "/assets/"

// digestLen is the length of the hex digest in a file name: 128 bits of
// SHA-256, as long as the MD5 digests mix phx.digest writes.
const digestLen = 32

// Options configures [New]. The zero value serves under "/assets/" with
// gzip.
type Options struct {
	// Prefix is the URL path the assets are served under; it starts and
	// ends with "/". Default "/assets/".
	Prefix string

	// DisableGzip turns off gzip responses. Default false: compressible
	// files are served gzipped to clients that accept it.
	DisableGzip bool
}

// Assets serves the files of an fs.FS under content-digested names. Create
// it with [New]; it is an [http.Handler] for its prefix.
type Assets struct {
	fsys     fs.FS
	prefix   string
	gzip     bool
	logical  map[string]*file // "css/app.css"
	digested map[string]*file // "css/app-0123….css"
}

// file is one asset.
type file struct {
	name     string // logical path in the FS
	digested string // logical path with the digest in the base name
	digest   string // hex
	size     int64
	ctype    string

	compressible bool
	gzName       string // precompressed sibling in the FS ("app.css.gz"), or ""
	gzOnce       sync.Once
	gz           []byte // gzip variant, nil when it would not be smaller
	gzErr        error
}

// New reads every file in fsys once to compute its digest and returns the
// assets. Files are read again from fsys when served, so fsys must not
// change afterwards (an embed.FS never does).
//
// A file NAME.gz next to NAME is taken as NAME's precompressed gzip
// variant and not served as an asset of its own; other compressible files
// are gzipped on their first gzip request and kept in memory.
func New(fsys fs.FS, opts Options) (*Assets, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("assets: prefix %q must start and end with \"/\", e.g. %q", prefix, DefaultPrefix)
	}
	a := &Assets{
		fsys:     fsys,
		prefix:   prefix,
		gzip:     !opts.DisableGzip,
		logical:  map[string]*file{},
		digested: map[string]*file{},
	}
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assets: list files: %w", err)
	}
	all := make(map[string]bool, len(names))
	for _, n := range names {
		all[n] = true
	}
	h := sha256.New()
	buf := make([]byte, 32<<10)
	for _, n := range names {
		if strings.HasSuffix(n, ".gz") && all[strings.TrimSuffix(n, ".gz")] {
			continue // the precompressed variant of another file
		}
		f, err := digestFile(fsys, n, h, buf)
		if err != nil {
			return nil, err
		}
		f.ctype = contentType(n)
		f.compressible = compressible(n)
		if all[n+".gz"] {
			f.gzName = n + ".gz"
		}
		a.logical[n] = f
		a.digested[f.digested] = f
	}
	return a, nil
}

func digestFile(fsys fs.FS, name string, h interface {
	io.Writer
	Sum([]byte) []byte
	Reset()
}, buf []byte) (*file, error) {
	r, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	defer r.Close()
	h.Reset()
	n, err := io.CopyBuffer(h, r, buf)
	if err != nil {
		return nil, fmt.Errorf("assets: read %s: %w", name, err)
	}
	digest := hex.EncodeToString(h.Sum(nil))[:digestLen]
	return &file{name: name, digested: digestedName(name, digest), digest: digest, size: n}, nil
}

// digestedName puts digest before the extension of name's base:
// "css/app.min.css" -> "css/app.min-<digest>.css".
func digestedName(name, digest string) string {
	dir, base := path.Split(name)
	ext := path.Ext(base)
	if ext == base { // ".htaccess"
		ext = ""
	}
	return dir + strings.TrimSuffix(base, ext) + "-" + digest + ext
}

// undigest reverses digestedName for a name carrying some digest, which
// need not be the current one.
func undigest(name string) (string, bool) {
	dir, base := path.Split(name)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	i := len(stem) - digestLen - 1
	if i < 1 || stem[i] != '-' {
		return "", false
	}
	if _, err := hex.DecodeString(stem[i+1:]); err != nil {
		return "", false
	}
	return dir + stem[:i] + ext, true
}

// webTypes are the content types of the usual web assets. Looking them up
// here rather than through package mime keeps New from loading the
// system's MIME database (/etc/mime.types and friends), which costs about
// a millisecond of startup and a few hundred KB of memory.
var webTypes = map[string]string{
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
	".xml": "text/xml; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/vnd.microsoft.icon",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject",
	".wasm": "application/wasm", ".pdf": "application/pdf", ".zip": "application/zip", ".gz": "application/gzip",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := webTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compressibleExt lists the extensions worth gzipping; images other than
// SVG, fonts in WOFF/WOFF2 and archives are compressed already.
var compressibleExt = map[string]bool{
	".css": true, ".js": true, ".mjs": true, ".map": true, ".json": true,
	".svg": true, ".html": true, ".htm": true, ".txt": true, ".xml": true,
	".csv": true, ".md": true, ".wasm": true, ".ttf": true, ".otf": true,
	".eot": true, ".ico": true, ".webmanifest": true,
}

func compressible(name string) bool { return compressibleExt[strings.ToLower(path.Ext(name))] }

// Path returns the URL path of the asset name, with its digest:
// Path("css/app.css") is "/assets/css/app-<digest>.css". A name that is not
// an asset is returned undigested under the prefix (and will 404), so a
// typo shows up as a broken link rather than a failed page; use [Lookup]
// to check.
func (a *Assets) Path(name string) string {
	if p, ok := a.Lookup(name); ok {
		return p
	}
	return a.prefix + strings.TrimPrefix(name, "/")
}

// Lookup returns the digested URL path of the asset name, and whether
// there is such an asset.
func (a *Assets) Lookup(name string) (string, bool) {
	f, ok := a.logical[strings.TrimPrefix(name, "/")]
	if !ok {
		return "", false
	}
	return a.prefix + f.digested, true
}

// Prefix returns the URL path the assets are served under.
func (a *Assets) Prefix() string { return a.prefix }

// Manifest lists the assets like the cache_manifest.json that
// mix phx.digest writes.
type Manifest struct {
	// Version is the manifest format version, 1.
	Version int `json:"version"`
	// Latest maps each logical path to its digested path.
	Latest map[string]string `json:"latest"`
	// Digests describes each digested path.
	Digests map[string]ManifestEntry `json:"digests"`
}

// ManifestEntry describes one digested file.
type ManifestEntry struct {
	LogicalPath string `json:"logical_path"`
	Size        int64  `json:"size"`
	Digest      string `json:"digest"`
}

// Manifest returns the manifest of the assets; encoding/json writes it as
// cache_manifest.json would be.
func (a *Assets) Manifest() Manifest {
	m := Manifest{Version: 1, Latest: map[string]string{}, Digests: map[string]ManifestEntry{}}
	for _, f := range a.logical {
		m.Latest[f.name] = f.digested
		m.Digests[f.digested] = ManifestEntry{LogicalPath: f.name, Size: f.size, Digest: f.digest}
	}
	return m
}

// Names returns the logical paths of all assets, sorted.
func (a *Assets) Names() []string {
	out := make([]string, 0, len(a.logical))
	for n := range a.logical {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var _ http.Handler = (*Assets)(nil)
