package main

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os/user"
	"regexp"
	"strings"

	"github.com/sawt/sawt/app"
	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
)

// maxChatLine bounds one typed message; longer lines are refused rather than cut.
const maxChatLine = 64 * 1024

func runChat(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chat", "chat [--channel sms|telegram|voice|terminal] [--lang ar|ckb|badini|en] [--urn URN]",
		strings.TrimSpace(`
Talks with Sawt in this terminal, through the real engine and database, as a person would on
a channel. Each line you type is one message; replies are shown as that channel shows them.
When standard input is not a terminal, it reads one message per line, prints each message
(after "> ") and its replies, and exits at the end of the input:

  printf '1\n1\nThe water tank is broken\n' | sawt chat --lang en

Use --urn to continue later as the same person (default: terminal:<your user name>).`))
	channel := fs.String("channel", string(channels.Terminal), "render replies as this channel does: sms, telegram, voice or terminal")
	lang := fs.String("lang", "", "choose the language before the first message: ar, ckb, badini or en")
	urnFlag := fs.String("urn", "", "who you are: tel:+9647…, telegram:<chat id> or terminal:<name>")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	kind := channels.Kind(*channel)
	if !kind.Valid() {
		return usageErrorf("--channel %q: use sms, telegram, voice or terminal", *channel)
	}
	if *lang != "" && !locales.Valid(*lang) {
		return usageErrorf("--lang %q: use ar, ckb, badini or en", *lang)
	}
	urn, err := chatURN(*urnFlag, e.getenv)
	if err != nil {
		return usageErrorf("--urn: %v", err)
	}
	cfg, err := config(e)
	if err != nil {
		return err
	}
	cfg.Logger = quietLogger(e.stderr)
	a, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if *lang != "" {
		if err := a.Gateway.SetLanguage(ctx, urn, *lang); err != nil {
			return err
		}
	}

	interactive := e.stdinIsTTY
	if interactive {
		fmt.Fprintf(e.stderr, "Talking with Sawt as %s on the %s channel. Type a message and press Enter; Ctrl-D to leave.\n", urn, kind)
	}
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 0, 4096), maxChatLine)
	for {
		if interactive {
			fmt.Fprint(e.stderr, "> ")
		}
		if !sc.Scan() {
			break
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if !interactive {
			fmt.Fprintf(e.stdout, "> %s\n", line)
		}
		res, err := a.Gateway.Receive(ctx, channels.Inbound{
			Channel: kind, ExternalID: "chat-" + randomID(), URN: urn, Text: line, Inline: true,
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		printReplies(e.stdout, kind, res.Replies)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	if interactive {
		fmt.Fprintln(e.stderr)
	}
	return nil
}

// printReplies shows replies as the channel does: Telegram's buttons on a line of their own.
func printReplies(w io.Writer, kind channels.Kind, replies []channels.Outbound) {
	for _, r := range replies {
		fmt.Fprintln(w, r.Text)
		if b := channels.Buttons(kind, r.Choices); b != "" {
			fmt.Fprintln(w, b)
		}
		fmt.Fprintln(w)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// chatURN is the URN given, or terminal:<user name> for the person at this terminal.
func chatURN(flagValue string, getenv func(string) string) (channels.URN, error) {
	if flagValue != "" {
		return channels.ParseURN(flagValue)
	}
	name := getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	name = strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-")
	if name == "" {
		name = "user"
	}
	return channels.NewTerminalURN(name)
}

func randomID() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
