package envfile_test

import (
	"fmt"

	"github.com/relkit/relkit/internal/envfile"
)

func ExampleParse() {
	vars, err := envfile.Parse([]byte(`# releases/1.1.0/env
DATABASE_URL=postgres://links@db/links
GREETING="  Hello  "
PORT=4000
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	env := envfile.Merge(map[string]string{"PORT": "8080"}, vars)
	fmt.Printf("%q %q %q\n", env["DATABASE_URL"], env["GREETING"], env["PORT"])
	// Output: "postgres://links@db/links" "  Hello  " "8080"
}

func ExampleParse_errors() {
	_, err := envfile.Parse([]byte("TOKEN=abc\nexport KEY=secret\nTOKEN=def\n"))
	fmt.Println(err)
	// Output:
	// environment file: 2 line(s) cannot be read (want KEY=VALUE lines, # comments and blank lines):
	//   line 2 (KEY): drop "export": the file is read as KEY=VALUE lines, not run by a shell
	//   line 3 (TOKEN): set again (first on line 1); keep one
}
