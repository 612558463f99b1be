package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"quorum/record"
)

func verifyCommand() *cobra.Command {
	var keyPath string
	cmd := &cobra.Command{
		Use:   "verify FILE --key KEY.asc",
		Short: "Check signed minutes: the signature and the hash chain inside",
		Long: "Check minutes posted by !minutes: that the bot's key signed the whole document,\n" +
			"with no unsigned text added before or after it (which gpg --verify does not\n" +
			"report), and that the decisions in it form an unbroken hash chain that begins in\n" +
			"the room the minutes name. KEY.asc is the key from !key (check its fingerprint\n" +
			"with another member).",
		Example: "  quorum verify minutes-2026-11-30.md --key quorum-key.asc",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("verify takes one FILE; for example: quorum verify minutes.md --key key.asc")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usageError{errors.New("missing --key KEY.asc (the bot's public key, from !key)")}
			}
			signed, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			key, err := os.ReadFile(keyPath)
			if err != nil {
				return err
			}
			report, err := record.VerifyMinutes(signed, key)
			if err != nil {
				return fmt.Errorf("%s does NOT verify: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s verifies.\n", args[0])
			for _, c := range report.Checks {
				fmt.Fprintf(out, "  ✓ %s\n", c)
			}
			if report.Continues != "" {
				fmt.Fprintf(out, "These minutes continue the chain after %s: compare it with the head of the previous minutes.\n", report.Continues)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "the bot's armored public key (from !key)")
	return cmd
}
