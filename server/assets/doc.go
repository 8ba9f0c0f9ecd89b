// Package assets serves static files under content-digested names, the way
// Phoenix's mix phx.digest does, without a build step: [New] hashes every
// file of an fs.FS (typically an embed.FS) once at startup.
//
//	//go:embed static
//	var static embed.FS
//
//	sub, _ := fs.Sub(static, "static")
//	a, err := assets.New(sub, assets.Options{})
//	...
//	mux.Handle(a.Prefix(), a)
//	tmpl.Funcs(template.FuncMap{"asset": a.Path}) // {{asset "app.css"}}
//
// [Assets.Path]("app.css") returns "/assets/app-<digest>.css", served with
// Cache-Control: public, max-age=31536000, immutable: a new release changes
// the digest, so browsers and CDNs never need to ask again. The undigested
// "/assets/app.css" keeps working and is revalidated with its ETag (304 Not
// Modified when unchanged). Compressible files are served gzipped to
// clients that accept it. [Assets.Manifest] is the equivalent of
// cache_manifest.json.
//
// # Costs
//
// Digests are SHA-256 (hardware-accelerated on current amd64 and arm64),
// truncated to 128 bits: New reads each byte once and keeps nothing but the
// digests, so startup grows by about a millisecond per MB of assets and
// memory not at all (embedded files are served from the binary's data).
// Gzip variants are made on a file's first gzip request, at the default
// compression level, and kept in memory; doing all of them at startup
// would cost about 100 ms per MB of text before the first request could be
// served. To avoid even the first-request cost, embed a
// precompressed NAME.gz next to NAME: it is used as NAME's gzip variant.
//
// A digested name whose digest is not the current one (an old page asking
// during a deploy) is answered with the current file and revalidation
// rather than a 404.
package assets
