package console

// toolTexts are the words of the case list export, the simulator and the recordings, by
// language and key; added to texts at start (TestTextsComplete checks every key is in every
// language).
var toolTexts = map[string]map[string]string{
	"en": {
		"export_title": "Case list download", "export_csv": "Download this list (CSV)",
		"export_csv_open": "Download the list of open cases (CSV, without personal data)",
	},
	"ar": {
		"export_title": "تنزيل قائمة الحالات", "export_csv": "تنزيل هذه القائمة (CSV)",
		"export_csv_open": "تنزيل قائمة الحالات المفتوحة (CSV، دون بيانات شخصية)",
	},
	"ckb": {
		"export_title": "داگرتنی لیستی کەیسەکان", "export_csv": "ئەم لیستە دابگرە (CSV)",
		"export_csv_open": "لیستی کەیسە کراوەکان دابگرە (CSV، بێ زانیاریی کەسی)",
	},
}

func init() {
	for lang, m := range toolTexts {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
