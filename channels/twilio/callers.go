package twilio

import (
	"sync"

	"github.com/sawt/sawt/channels"
)

// maxCallers bounds the callers whose language is remembered: a hundred thousand numbers
// take a few megabytes.
const maxCallers = 100_000

// callerLanguages remembers the language this process last spoke with each caller in, so
// that when the database cannot answer, a caller is asked to leave a message in their own
// language rather than in all four. It is a hint, lost at restart. The zero value is ready.
type callerLanguages struct {
	mu    sync.Mutex
	langs map[channels.URN]string
}

func (c *callerLanguages) remember(urn channels.URN, lang string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.langs == nil {
		c.langs = make(map[channels.URN]string)
	}
	if _, known := c.langs[urn]; !known && len(c.langs) >= maxCallers {
		for other := range c.langs { // any one: map order is random
			delete(c.langs, other)
			break
		}
	}
	c.langs[urn] = lang
}

func (c *callerLanguages) language(urn channels.URN) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.langs[urn]
	return l, ok
}
