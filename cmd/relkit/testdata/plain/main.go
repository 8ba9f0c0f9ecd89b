// Command plain is a Go program that is not a relkit app: relkit build
// must refuse it with a clear message.
package main

import "fmt"

func main() { fmt.Println("plain") }
