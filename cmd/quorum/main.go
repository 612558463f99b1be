// Command quorum runs the Quorum bot and its tools. main wires things
// together; each verb lives in its own file.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	_ "time/tzdata" // room timezones work on hosts without zoneinfo

	"github.com/spf13/cobra"

	"quorum/config"
)

// exitUsage is the exit status for a bad configuration or bad arguments.
const exitUsage = 2

func main() {
	root := &cobra.Command{
		Use:   "quorum",
		Short: "Quorum: direct democracy for an encrypted Matrix room",
		Long: "Quorum is an end-to-end encrypted Matrix bot that lets an assembly run itself:\n" +
			"motions voted by reaction, delegates with mandates and instant recall,\n" +
			"duty rotations, study sessions, and a signed, tamper-evident record.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(runCommand(), sandboxCommand(), versionCommand(), verifyCommand(), exportCommand(), importCommand())
	err := root.Execute()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "quorum:", err)
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) || isUsageError(err) || strings.HasPrefix(err.Error(), "unknown command") {
		os.Exit(exitUsage)
	}
	os.Exit(1)
}

// usageError marks bad command-line arguments (exit status 2).
type usageError struct{ error }

// noArgs is cobra.NoArgs with the usage exit status.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
