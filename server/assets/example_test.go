package assets_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"testing/fstest"

	"github.com/relkit/relkit/server/assets"
)

func Example() {
	// In an application: //go:embed static, then fs.Sub(static, "static").
	static := fstest.MapFS{
		"app.css": {Data: []byte("body { margin: 0 }\n")},
	}
	a, err := assets.New(static, assets.Options{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle(a.Prefix(), a)

	page := template.Must(template.New("page").Funcs(template.FuncMap{"asset": a.Path}).
		Parse(`<link rel="stylesheet" href="{{asset "app.css"}}">` + "\n"))
	page.Execute(os.Stdout, nil)

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", a.Path("app.css"), nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	// Output:
	// <link rel="stylesheet" href="/assets/app-b4d5deb2f19a59cc8683e443244245fa.css">
	// 200 public, max-age=31536000, immutable
}

func ExampleAssets_Manifest() {
	a, err := assets.New(fstest.MapFS{"js/app.js": {Data: []byte("console.log(1)\n")}}, assets.Options{})
	if err != nil {
		panic(err)
	}
	m := a.Manifest()
	fmt.Println(m.Latest["js/app.js"])
	fmt.Println(m.Digests[m.Latest["js/app.js"]].Size)
	// Output:
	// js/app-3879a5d930ae1999b278a3a498f7de3f.js
	// 15
}
