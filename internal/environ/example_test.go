package environ_test

import (
	"fmt"

	"github.com/relkit/relkit/internal/environ"
)

func ExampleParse() {
	vars, err := environ.Parse([]byte(`# releases/1.1.0/env
DATABASE_URL=postgres://links@db/links
GREETING="  Hello  "
PORT=4000
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q %q %q\n", vars["DATABASE_URL"], vars["GREETING"], vars["PORT"])
	// Output: "postgres://links@db/links" "  Hello  " "4000"
}

func ExampleParse_errors() {
	_, err := environ.Parse([]byte("TOKEN=abc\nexport KEY=secret\nTOKEN=def\n"))
	fmt.Println(err)
	// Output:
	// environment file: 2 line(s) cannot be read (want KEY=VALUE lines, # comments and blank lines):
	//   line 2 (KEY): drop "export": the file is read as KEY=VALUE lines, not run by a shell
	//   line 3 (TOKEN): set again (first on line 1); keep one
}
