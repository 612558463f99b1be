package main

import "github.com/spf13/cobra"

func sandboxCommand() *cobra.Command {
	return &cobra.Command{Use: "sandbox", Short: "Run Quorum against a local sandbox homeserver"}
}
