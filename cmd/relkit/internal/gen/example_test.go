package gen_test

import (
	"fmt"
	"strings"

	"github.com/relkit/relkit/cmd/relkit/internal/gen"
)

func ExampleSystemd() {
	files, err := gen.Systemd(gen.App{Name: "links", Version: "1.2.0", Port: 4000}, gen.SystemdOptions{Socket: true})
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		fmt.Println(f.Name)
	}
	for _, line := range strings.Split(string(files[1].Data), "\n") {
		if strings.HasPrefix(line, "Exec") || strings.HasPrefix(line, "Type=") {
			fmt.Println(line)
		}
	}
	// Output:
	// links-migrate.service
	// links.service
	// links.socket
	// Type=notify
	// ExecStart=/opt/links/bin/links start
	// ExecReload=/opt/links/bin/links restart
}

func ExampleKubernetes() {
	_, err := gen.Kubernetes(gen.App{Name: "Links!", Version: "1.0.0"}, gen.KubernetesOptions{})
	fmt.Println(err)
	// Output:
	// invalid input for generated files:
	//   release name "Links!": use letters, digits, '-', '_' and '.', at most 63
}
