// Command vruntime: see root.go for what it does.
package main

import (
	"os"

	"github.com/vr-paas/vr/pkg/cli"
)

func main() {
	os.Exit(cli.Main(newRootCmd, os.Args[1:], cli.StdStreams()))
}
