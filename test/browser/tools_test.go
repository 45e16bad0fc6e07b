package browser

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/store"
)

// silentWAV is half a second of silence as a WAV file (8 kHz, 16-bit mono), as a phone
// provider's recording would be.
func silentWAV() []byte {
	const rate, samples = 8000, 4000
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(36+samples*2))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		_ = binary.Write(&b, le, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(samples*2))
	b.Write(make([]byte, samples*2))
	return b.Bytes()
}

// A caseworker's browser plays a case's recording from the case page: the console serves it,
// and its policy lets the page load it.
func TestCaseRecordingPlays(t *testing.T) {
	path := needBrowser(t)
	e := startConsole(t)
	e.addUser("amal@example.org", console.RoleCaseworker, "en")
	id, _ := e.seedCase(channels.URN("tel:+9647701234567"), "1234567")
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `INSERT INTO recordings (provider_id, case_id, duration_seconds, created_at)
		VALUES ('RE-1', $1, 1, now())`, id); err != nil {
		t.Fatal(err)
	}
	if err := store.StoreRecordingAudio(ctx, e.pool, "RE-1", "audio/wav", silentWAV(), time.Now()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, path, e.url)
	signIn(b, "amal@example.org")
	if status := b.open(fmt.Sprintf("/cases/%d", id)); status != http.StatusOK {
		b.fatalf("the case page: %d", status)
	}
	type loaded struct {
		Duration float64 `json:"duration"`
		Error    string  `json:"error"`
	}
	got := run(b, "load the recording", chromedp.Evaluate[loaded](`new Promise(resolve => {
		const a = document.querySelector('main audio');
		if (!a) { resolve({duration: 0, error: 'no player'}); return; }
		document.addEventListener('securitypolicyviolation', ev => resolve({duration: 0, error: 'refused by ' + ev.violatedDirective}));
		a.addEventListener('loadedmetadata', () => resolve({duration: a.duration, error: ''}));
		a.addEventListener('error', () => resolve({duration: 0, error: 'media error ' + (a.error ? a.error.code : '')}));
		a.preload = 'auto';
		a.load();
	})`, chromedp.EvalAwaitPromise))
	if got.Error != "" || got.Duration < 0.4 || got.Duration > 0.6 {
		t.Errorf("the recording in the browser: %+v, want it loaded, half a second long", got)
	}
}
