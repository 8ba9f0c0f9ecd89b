package reltar_test

import (
	"fmt"

	"github.com/relkit/relkit/internal/reltar"
)

func ExampleName() {
	fmt.Println(reltar.Name("links", "1.2.0", "linux", "amd64"))
	// Output: links-1.2.0-linux-amd64.tar.gz
}
