package safeguarding_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/sawt/sawt/safeguarding"
	"github.com/sawt/sawt/store"
	"github.com/sawt/sawt/store/pgtest"
)

// TestMain starts the test PostgreSQL (EnsureEscrow and the Sealer read psea_recipients).
// It is the package's only TestMain: other test files of safeguarding must not add one.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testWorkFactor keeps scrypt fast in tests; production uses age's default (18).
const testWorkFactor = 10

func pass(s string) func() (string, error) { return func() (string, error) { return s, nil } }

func noPassphrase(t *testing.T) func() (string, error) {
	return func() (string, error) {
		t.Error("asked for a passphrase for a plain identity file")
		return "", errors.New("unexpected")
	}
}

func newFocalPoint(t *testing.T, passphrase string) (file []byte, recipient string) {
	t.Helper()
	file, recipient, err := safeguarding.NewIdentity(passphrase, testWorkFactor)
	if err != nil {
		t.Fatal(err)
	}
	return file, recipient
}

// plainIdentityFile is an identity file as the escrow's: comments and one secret key.
func plainIdentityFile(t *testing.T) ([]byte, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf("# an escrow identity\n# public key: %s\n\n%s\n", id.Recipient(), id)), id
}

// Two focal points and the escrow each open what was sealed to all three; a third identity
// opens nothing.
func TestSealRoundTrip(t *testing.T) {
	fileA, keyA := newFocalPoint(t, "correct horse")
	fileB, keyB := newFocalPoint(t, "battery staple")
	escrowFile, escrowID := plainIdentityFile(t)
	if !strings.HasPrefix(keyA, "age1") || keyA == keyB {
		t.Fatalf("public keys %q and %q", keyA, keyB)
	}
	if !bytes.HasPrefix(fileA, []byte(armor.Header)) {
		t.Errorf("the identity file is not armored:\n%s", fileA)
	}
	if bytes.Contains(fileA, []byte("AGE-SECRET-KEY")) {
		t.Error("the identity file holds the secret key in the clear")
	}

	plaintext := []byte(`{"field":"what","value":"he asked for sex in exchange for the food card","at":"2026-11-23T10:00:00Z"}`)
	ct, err := safeguarding.Seal(plaintext, []string{keyA, keyB, escrowID.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("food card")) {
		t.Fatal("the ciphertext holds the plaintext")
	}

	idA, err := safeguarding.OpenIdentity(fileA, pass("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if idA.Recipient().String() != keyA {
		t.Errorf("identity A's public key is %s, want %s", idA.Recipient(), keyA)
	}
	idB, err := safeguarding.OpenIdentity(fileB, pass("battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	idEscrow, err := safeguarding.OpenIdentity(escrowFile, noPassphrase(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]age.Identity{"A": idA, "B": idB, "escrow": idEscrow} {
		got, err := safeguarding.Unseal(ct, id)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Errorf("%s: Unseal = %q, %v", name, got, err)
		}
	}

	fileC, _ := newFocalPoint(t, "someone else")
	idC, err := safeguarding.OpenIdentity(fileC, pass("someone else"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := safeguarding.Unseal(ct, idC)
	if !errors.Is(err, safeguarding.ErrNotRecipient) || got != nil {
		t.Fatalf("a third identity: Unseal = %q, %v; want ErrNotRecipient", got, err)
	}
	if !strings.Contains(err.Error(), "identity cannot open") {
		t.Errorf("error %q does not say the identity cannot open it", err)
	}

	if _, err := safeguarding.Unseal([]byte("not age at all"), idA); err == nil || errors.Is(err, safeguarding.ErrNotRecipient) {
		t.Errorf("garbage: Unseal error %v, want a damaged-ciphertext error", err)
	}
	if _, err := safeguarding.Seal(plaintext, nil); !errors.Is(err, safeguarding.ErrNoRecipients) {
		t.Errorf("Seal to nobody: %v, want ErrNoRecipients", err)
	}
	if _, err := safeguarding.Seal(plaintext, []string{keyA, "age1nope"}); err == nil {
		t.Error("Seal accepted an invalid key")
	}
}

func TestOpenIdentityWrongPassphrase(t *testing.T) {
	file, _ := newFocalPoint(t, "the right one")
	for _, pw := range []string{"the wrong one", ""} {
		_, err := safeguarding.OpenIdentity(file, pass(pw))
		if !errors.Is(err, safeguarding.ErrWrongPassphrase) {
			t.Fatalf("passphrase %q: error %v, want ErrWrongPassphrase", pw, err)
		}
		if err.Error() != "wrong passphrase" {
			t.Errorf("error %q, want exactly \"wrong passphrase\"", err)
		}
	}
	// the passphrase callback's own error is returned as is
	askErr := errors.New("no terminal")
	if _, err := safeguarding.OpenIdentity(file, func() (string, error) { return "", askErr }); !errors.Is(err, askErr) {
		t.Errorf("error %v, want the callback's", err)
	}
}

// The binary (unarmored) form of a passphrase-protected identity is accepted too, and
// leading blank lines do not matter.
func TestOpenIdentityBinaryAndArmored(t *testing.T) {
	file, key := newFocalPoint(t, "pw")
	binary, err := io.ReadAll(armor.NewReader(bytes.NewReader(file)))
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string][]byte{"binary": binary, "armored, leading newline": append([]byte("\n\n"), file...)} {
		id, err := safeguarding.OpenIdentity(f, pass("pw"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if id.Recipient().String() != key {
			t.Errorf("%s: key %s, want %s", name, id.Recipient(), key)
		}
	}
}

func TestOpenIdentityPlainAndNot(t *testing.T) {
	file, id := plainIdentityFile(t)
	got, err := safeguarding.OpenIdentity(file, noPassphrase(t))
	if err != nil || got.String() != id.String() {
		t.Fatalf("plain identity: %v", err)
	}

	other, _ := age.GenerateX25519Identity()
	two := append(append([]byte{}, file...), []byte(other.String()+"\n")...)
	if _, err := safeguarding.OpenIdentity(two, noPassphrase(t)); err == nil || !strings.Contains(err.Error(), "2 identities") {
		t.Errorf("two identities: %v", err)
	}

	// a file encrypted to a key (not a passphrase) is no identity file either
	var toKey bytes.Buffer
	w, _ := age.Encrypt(&toKey, id.Recipient())
	w.Write([]byte(other.String()))
	w.Close()

	for name, f := range map[string][]byte{
		"empty":           nil,
		"text":            []byte("hello\nworld\n"),
		"comments only":   []byte("# nothing here\n"),
		"public key":      []byte(id.Recipient().String() + "\n"),
		"broken secret":   []byte("AGE-SECRET-KEY-1QQQQ\n"),
		"encrypted to id": toKey.Bytes(),
	} {
		_, err := safeguarding.OpenIdentity(f, pass("x"))
		if !errors.Is(err, safeguarding.ErrNotIdentityFile) {
			t.Errorf("%s: error %v, want ErrNotIdentityFile", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "not an age identity file") {
			t.Errorf("%s: error %q", name, err)
		}
		if strings.Contains(err.Error(), "AGE-SECRET-KEY-1QQQQ") {
			t.Errorf("%s: the error quotes the secret: %q", name, err)
		}
	}
}

func TestNewIdentityRefuses(t *testing.T) {
	if _, _, err := safeguarding.NewIdentity("", testWorkFactor); err == nil {
		t.Error("an empty passphrase was accepted")
	}
	for _, wf := range []int{-1, safeguarding.MaxWorkFactor + 1, 31} {
		if _, _, err := safeguarding.NewIdentity("pw", wf); err == nil {
			t.Errorf("work factor %d was accepted", wf)
		}
	}
}

func TestParseRecipient(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	key := id.Recipient().String()
	if r, err := safeguarding.ParseRecipient("  " + key + "\n"); err != nil || r.String() != key {
		t.Errorf("valid key: %v", err)
	}
	for input, want := range map[string]string{
		"":                    "empty",
		id.String():           "secret key",
		"ssh-ed25519 AAAA":    "should start with age1",
		key[:len(key)-3]:      "not a valid age public key",
		"age1pq1qqqqqqqqqqqq": "post-quantum",
	} {
		_, err := safeguarding.ParseRecipient(input)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRecipient(%.20q): %v, want an error saying %q", input, err, want)
		}
		if err != nil && strings.Contains(err.Error(), id.String()) {
			t.Error("the error quotes the secret key")
		}
	}
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func escrows(t *testing.T, db store.DB) []store.PSEARecipient {
	t.Helper()
	rs, err := store.ListPSEARecipients(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.PSEARecipient
	for _, r := range rs {
		if r.Escrow {
			out = append(out, r)
		}
	}
	return out
}

// EnsureEscrow generates the escrow identity once (0600, in a 0700 directory), registers its
// key, and then leaves everything as it is; its warnings follow the focal points.
func TestEnsureEscrowGenerates(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dataDir, safeguarding.EscrowFile)

	warnings, err := safeguarding.EnsureEscrow(ctx, pool, dataDir, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("escrow identity mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(dataDir); dst.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", dst.Mode().Perm())
	}
	file, _ := os.ReadFile(path)
	if !bytes.Contains(file, []byte("offline")) || !bytes.Contains(file, []byte("\n# ")) {
		t.Errorf("the escrow identity file does not explain itself:\n%s", file)
	}
	id, err := safeguarding.OpenIdentity(file, noPassphrase(t))
	if err != nil {
		t.Fatal(err)
	}
	es := escrows(t, pool)
	if len(es) != 1 || es[0].PublicKey != id.Recipient().String() || es[0].Name != "escrow" || !es[0].CreatedAt.Equal(t0) {
		t.Fatalf("escrows registered: %+v, want the file's key %s", es, id.Recipient())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "no PSEA focal point registered") ||
		!strings.Contains(warnings[0], path) || !strings.Contains(warnings[0], "sawt psea keygen") {
		t.Errorf("warnings %q", warnings)
	}

	// a second start changes nothing
	warnings, err = safeguarding.EnsureEscrow(ctx, pool, dataDir, "", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, file) {
		t.Error("the escrow identity file was rewritten")
	}
	if es2 := escrows(t, pool); len(es2) != 1 || es2[0].ID != es[0].ID {
		t.Errorf("escrows after a second start: %+v", es2)
	}
	if len(warnings) != 1 {
		t.Errorf("warnings of the second start: %q", warnings)
	}

	// sealed to the active recipients, the escrow identity opens it
	sealed, err := safeguarding.NewSealer().Seal(ctx, pool, []byte("report"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := safeguarding.Unseal(sealed, id); err != nil || string(got) != "report" {
		t.Errorf("escrow Unseal: %q %v", got, err)
	}

	// with a focal point, the file still here is the warning
	_, fpKey := newFocalPoint(t, "pw")
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Layla", PublicKey: fpKey, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	warnings, err = safeguarding.EnsureEscrow(ctx, pool, dataDir, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "still on this server") || !strings.Contains(warnings[0], path) {
		t.Errorf("warnings with a focal point and the file here: %q", warnings)
	}
	// moved offline: no warning, and no new escrow file
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	warnings, err = safeguarding.EnsureEscrow(ctx, pool, dataDir, "", t0)
	if err != nil || len(warnings) != 0 {
		t.Errorf("file moved offline: warnings %q, %v", warnings, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the escrow identity was made again: %v", err)
	}
}

// An escrow identity file already in the data directory is never overwritten: its key is
// the one registered.
func TestEnsureEscrowKeepsExistingFile(t *testing.T) {
	pool := pgtest.New(t)
	dataDir := t.TempDir()
	file, id := plainIdentityFile(t)
	path := filepath.Join(dataDir, safeguarding.EscrowFile)
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := safeguarding.EnsureEscrow(context.Background(), pool, dataDir, "", t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, file) {
		t.Error("the existing file was overwritten")
	}
	if es := escrows(t, pool); len(es) != 1 || es[0].PublicKey != id.Recipient().String() {
		t.Errorf("escrows %+v, want the existing file's key", es)
	}

	// a file that is not a plain identity is an error, not replaced
	pool2 := pgtest.New(t)
	dir2 := t.TempDir()
	junk, _ := newFocalPoint(t, "pw") // passphrase-protected: not fit for the server to use
	os.WriteFile(filepath.Join(dir2, safeguarding.EscrowFile), junk, 0o600)
	if _, err := safeguarding.EnsureEscrow(context.Background(), pool2, dir2, "", t0); err == nil {
		t.Error("a passphrase-protected escrow file was accepted")
	}
}

// With SAWT_PSEA_ESCROW_KEY, that key is registered and no identity is generated.
func TestEnsureEscrowFromKey(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	offline, _ := age.GenerateX25519Identity()
	key := offline.Recipient().String()

	if _, err := safeguarding.EnsureEscrow(ctx, pool, dataDir, "age1invalid", t0); err == nil || !strings.Contains(err.Error(), "SAWT_PSEA_ESCROW_KEY") {
		t.Errorf("an invalid escrow key: %v", err)
	}
	warnings, err := safeguarding.EnsureEscrow(ctx, pool, dataDir, key, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, safeguarding.EscrowFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an escrow identity was generated although a key was given: %v", err)
	}
	if es := escrows(t, pool); len(es) != 1 || es[0].PublicKey != key {
		t.Errorf("escrows %+v, want %s", es, key)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "no PSEA focal point registered") || strings.Contains(warnings[0], dataDir) {
		t.Errorf("warnings %q: want no focal point, without a file", warnings)
	}

	// another key later: the registered one is kept, with a warning
	other, _ := age.GenerateX25519Identity()
	warnings, err = safeguarding.EnsureEscrow(ctx, pool, dataDir, other.Recipient().String(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if es := escrows(t, pool); len(es) != 1 || es[0].PublicKey != key {
		t.Errorf("escrows %+v, want still %s", es, key)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "differs") {
		t.Errorf("warnings %q", warnings)
	}
}

// Starts at the same time register one escrow: with one data directory, one file; with
// several, the losers remove the files nothing was encrypted to.
func TestEnsureEscrowConcurrent(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared data directory %v", shared), func(t *testing.T) {
			pool := pgtest.New(t)
			base := t.TempDir()
			const n = 6
			dirs := make([]string, n)
			for i := range dirs {
				dirs[i] = base
				if !shared {
					dirs[i] = filepath.Join(base, fmt.Sprint(i))
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					_, errs[i] = safeguarding.EnsureEscrow(context.Background(), pool, dirs[i], "", t0)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("start %d: %v", i, err)
				}
			}
			es := escrows(t, pool)
			if len(es) != 1 {
				t.Fatalf("%d escrows registered, want 1", len(es))
			}
			files, _ := filepath.Glob(filepath.Join(base, "*", safeguarding.EscrowFile))
			top, _ := filepath.Glob(filepath.Join(base, safeguarding.EscrowFile))
			files = append(files, top...)
			if len(files) != 1 {
				t.Fatalf("escrow identity files %q, want one", files)
			}
			data, _ := os.ReadFile(files[0])
			id, err := safeguarding.OpenIdentity(data, noPassphrase(t))
			if err != nil || id.Recipient().String() != es[0].PublicKey {
				t.Errorf("the file left is not the registered escrow: %v", err)
			}
			tmp, _ := filepath.Glob(filepath.Join(base, "*.tmp"))
			sub, _ := filepath.Glob(filepath.Join(base, "*", "*.tmp"))
			if tmp = append(tmp, sub...); len(tmp) > 0 {
				t.Errorf("temporary files left: %q", tmp)
			}
		})
	}
}

// The Sealer encrypts to the active recipients as the caller's transaction sees them.
func TestSealer(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	var s safeguarding.Sealer // the zero value works
	if _, err := s.Seal(ctx, pool, []byte("x")); !errors.Is(err, safeguarding.ErrNoRecipients) {
		t.Fatalf("no recipients: %v, want ErrNoRecipients", err)
	}
	fileA, keyA := newFocalPoint(t, "a")
	idA, _ := safeguarding.OpenIdentity(fileA, pass("a"))
	fileB, keyB := newFocalPoint(t, "b")
	idB, _ := safeguarding.OpenIdentity(fileB, pass("b"))
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "A", PublicKey: keyA, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := store.AddPSEARecipient(ctx, tx, store.PSEARecipient{Name: "B", PublicKey: keyB, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	inTx, err := s.Seal(ctx, tx, []byte("in the transaction"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := safeguarding.Unseal(inTx, idB); err != nil {
		t.Errorf("B, added in the transaction, cannot open: %v", err)
	}
	if err := store.RemovePSEARecipient(ctx, tx, "a", t0); err != nil {
		t.Fatal(err)
	}
	afterRemoval, err := s.Seal(ctx, tx, []byte("after A left"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := safeguarding.Unseal(afterRemoval, idA); !errors.Is(err, safeguarding.ErrNotRecipient) {
		t.Errorf("A, removed, can still open new reports: %v", err)
	}
	if got, err := safeguarding.Unseal(inTx, idA); err != nil || string(got) != "in the transaction" {
		t.Errorf("A cannot open what was sealed before: %v", err)
	}
}

// A stray identity file that is not the registered escrow is not named as the escrow, but
// is still to be moved off the server once focal points are registered.
func TestEnsureEscrowStrayFile(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	dataDir := t.TempDir()
	stray, _ := plainIdentityFile(t)
	path := filepath.Join(dataDir, safeguarding.EscrowFile)
	if err := os.WriteFile(path, stray, 0o600); err != nil {
		t.Fatal(err)
	}
	offline, _ := age.GenerateX25519Identity()
	warnings, err := safeguarding.EnsureEscrow(ctx, pool, dataDir, offline.Recipient().String(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if es := escrows(t, pool); len(es) != 1 || es[0].PublicKey != offline.Recipient().String() {
		t.Fatalf("escrows %+v: want the configured key", es)
	}
	if len(warnings) != 1 || strings.Contains(warnings[0], path) {
		t.Errorf("warnings %q: want no focal point, not naming the stray file", warnings)
	}
	_, key := newFocalPoint(t, "pw")
	if _, err := store.AddPSEARecipient(ctx, pool, store.PSEARecipient{Name: "Layla", PublicKey: key, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	warnings, _ = safeguarding.EnsureEscrow(ctx, pool, dataDir, offline.Recipient().String(), t0)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "still on this server") {
		t.Errorf("warnings %q: want the file to be moved", warnings)
	}
}

// TestParseRecipientX25519LookingPostQuantum: about one X25519 key in a thousand begins
// "age1pq" by chance; it is a key like any other (a generated escrow key once was refused).
func TestParseRecipientX25519LookingPostQuantum(t *testing.T) {
	for range 100000 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		pub := id.Recipient().String()
		if !strings.HasPrefix(pub, "age1pq") {
			continue
		}
		if _, err := safeguarding.ParseRecipient(pub); err != nil {
			t.Fatalf("ParseRecipient(%s): %v", pub, err)
		}
		return
	}
	t.Fatal("no key beginning age1pq in 100000 tries")
}
