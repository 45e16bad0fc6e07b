package console

// outreachPages are the campaign and distribution pages (cwc and admin, as the API).
func (w *Web) outreachPages() []Route { return nil }
