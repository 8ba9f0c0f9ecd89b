// Command noversion is a relkit app that declares no version: relkit build
// must ask for -version.
package main

import (
	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() { release.Main(release.App[runtimeconfig.Base]{Name: "noversion"}) }
