package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	"maunium.net/go/mautrix"
)

// Version is set at build time with -ldflags "-X main.Version=v1.2.3".
var Version = "dev"

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of Quorum and of its Matrix library",
		Args:  noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			rev := ""
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						rev = " (" + s.Value[:12] + ")"
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "quorum %s%s, mautrix-go %s\n", Version, rev, mautrix.Version)
		},
	}
}
