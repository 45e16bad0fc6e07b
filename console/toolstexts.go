package console

// toolTexts are the words of the case list export, the simulator and the recordings, by
// language and key; added to texts at start (TestTextsComplete checks every key is in every
// language).
var toolTexts = map[string]map[string]string{
	"en": {
		"export_title": "Case list download", "export_csv": "Download this list (CSV)",
		"export_csv_open":           "Download the list of open cases (CSV, without personal data)",
		"recording_not_found_title": "Recording not found", "recording_not_found": "This recording was not found.",
		"rec_pending_full": "This recording has not been downloaded from the phone provider yet. Please try again later.",
		"rec_listen":       "Listen to the recording",
	},
	"ar": {
		"export_title": "تنزيل قائمة الحالات", "export_csv": "تنزيل هذه القائمة (CSV)",
		"export_csv_open":           "تنزيل قائمة الحالات المفتوحة (CSV، دون بيانات شخصية)",
		"recording_not_found_title": "التسجيل غير موجود", "recording_not_found": "لم يُعثر على هذا التسجيل.",
		"rec_pending_full": "لم يُنزَّل هذا التسجيل بعد من مزوّد الخدمة الهاتفية. يرجى المحاولة مرة أخرى لاحقًا.",
		"rec_listen":       "الاستماع إلى التسجيل",
	},
	"ckb": {
		"export_title": "داگرتنی لیستی کەیسەکان", "export_csv": "ئەم لیستە دابگرە (CSV)",
		"export_csv_open":           "لیستی کەیسە کراوەکان دابگرە (CSV، بێ زانیاریی کەسی)",
		"recording_not_found_title": "تۆمارەکە نەدۆزرایەوە", "recording_not_found": "ئەم تۆمارە نەدۆزرایەوە.",
		"rec_pending_full": "ئەم تۆمارە هێشتا لە کۆمپانیای تەلەفۆنەوە دانەگیراوە. تکایە دواتر دووبارە هەوڵ بدەرەوە.",
		"rec_listen":       "گوێگرتن لە تۆمارەکە",
	},
}

func init() {
	for lang, m := range toolTexts {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
