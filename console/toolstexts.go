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
		"nav_simulator":    "Conversation simulator", "simulator_title": "Conversation simulator",
		"sim_live": "This talks to the live conversation flows, as a person would. What happens here is real: a complaint " +
			"becomes a case that caseworkers see, and a report of abuse reaches the PSEA focal points. The person here has a " +
			"simulator address of their own (shown with the conversation), by which what comes from the simulator is told apart.",
		"sim_conversation": "The conversation", "sim_language": "The person's language", "sim_address": "Simulator address",
		"sim_you": "You (as the person)", "sim_sawt": "Sawt", "sim_redacted": "Confidential: what was said is not kept.",
		"sim_say_hello": "Nothing has been said yet. Write a first message, as a person would (for example: hello).",
		"sim_message":   "Your message, as the person", "sim_send": "Send",
		"sim_new": "Start a new conversation", "sim_start": "Start a conversation",
		"sim_hint": "A new conversation is a new person, who has never written before. Choose the channel whose way of " +
			"showing replies you want to see, and the person's language.",
		"sim_started":         "A new conversation has started. Write the first message.",
		"sim_unavailable":     "The simulator is not available on this server.",
		"sim_bad_choice":      "Choose one of the channels and languages offered.",
		"sim_no_conversation": "Start a conversation first.", "sim_empty": "Write a message first.",
		"sim_too_long": "The message is too long: at most %d characters.", "sim_no_language": "Not chosen yet",
		"sim_earlier": "Only the last messages of this conversation are shown.",
	},
	"ar": {
		"export_title": "تنزيل قائمة الحالات", "export_csv": "تنزيل هذه القائمة (CSV)",
		"export_csv_open":           "تنزيل قائمة الحالات المفتوحة (CSV، دون بيانات شخصية)",
		"recording_not_found_title": "التسجيل غير موجود", "recording_not_found": "لم يُعثر على هذا التسجيل.",
		"rec_pending_full": "لم يُنزَّل هذا التسجيل بعد من مزوّد الخدمة الهاتفية. يرجى المحاولة مرة أخرى لاحقًا.",
		"rec_listen":       "الاستماع إلى التسجيل",
		"nav_simulator":    "محاكي المحادثة", "simulator_title": "محاكي المحادثة",
		"sim_live": "يتحدث هذا المحاكي مع مسارات المحادثة الفعلية كما يتحدث أي شخص. كل ما يحدث هنا حقيقي: الشكوى تصبح " +
			"حالة يراها مسؤولو الحالات، والبلاغ عن الاستغلال أو الاعتداء يصل إلى مسؤولي الحماية من الاستغلال والاعتداء الجنسيين. " +
			"للشخص هنا عنوان خاص بالمحاكي (يظهر مع المحادثة)، يُميَّز به كل ما يأتي من المحاكي.",
		"sim_conversation": "المحادثة", "sim_language": "لغة الشخص", "sim_address": "عنوان المحاكي",
		"sim_you": "أنت (بصفتك الشخص)", "sim_sawt": "صوت", "sim_redacted": "سرّي: لا يُحفَظ ما قيل.",
		"sim_say_hello": "لم يُكتب شيء بعد. اكتب الرسالة الأولى كما يكتبها أي شخص (مثلًا: مرحبا).",
		"sim_message":   "رسالتك بصفتك الشخص", "sim_send": "إرسال",
		"sim_new": "بدء محادثة جديدة", "sim_start": "بدء محادثة",
		"sim_hint":            "المحادثة الجديدة شخص جديد لم يراسلنا من قبل. اختر القناة التي تريد أن ترى الردود كما تظهر فيها، ولغة الشخص.",
		"sim_started":         "بدأت محادثة جديدة. اكتب الرسالة الأولى.",
		"sim_unavailable":     "المحاكي غير متاح على هذا الخادم.",
		"sim_bad_choice":      "اختر إحدى القنوات واللغات المعروضة.",
		"sim_no_conversation": "ابدأ محادثة أولًا.", "sim_empty": "اكتب رسالة أولًا.",
		"sim_too_long": "الرسالة طويلة جدًا: %d حرفًا على الأكثر.", "sim_no_language": "لم تُختَر بعد",
		"sim_earlier": "تظهر آخر رسائل هذه المحادثة فقط.",
	},
	"ckb": {
		"export_title": "داگرتنی لیستی کەیسەکان", "export_csv": "ئەم لیستە دابگرە (CSV)",
		"export_csv_open":           "لیستی کەیسە کراوەکان دابگرە (CSV، بێ زانیاریی کەسی)",
		"recording_not_found_title": "تۆمارەکە نەدۆزرایەوە", "recording_not_found": "ئەم تۆمارە نەدۆزرایەوە.",
		"rec_pending_full": "ئەم تۆمارە هێشتا لە کۆمپانیای تەلەفۆنەوە دانەگیراوە. تکایە دواتر دووبارە هەوڵ بدەرەوە.",
		"rec_listen":       "گوێگرتن لە تۆمارەکە",
		"nav_simulator":    "لاساییکەرەوەی گفتوگۆ", "simulator_title": "لاساییکەرەوەی گفتوگۆ",
		"sim_live": "ئەم لاساییکەرەوەیە وەک هەر کەسێک لەگەڵ ڕەوتە ڕاستەقینەکانی گفتوگۆ قسە دەکات. هەرچی لێرە ڕوودەدات " +
			"ڕاستەقینەیە: سکاڵا دەبێتە کەیسێک کە کارمەندانی کەیس دەیبینن، و ڕاپۆرتی چەوساندنەوە یان دەستدرێژی دەگاتە بەرپرسانی " +
			"پاراستن لە چەوساندنەوە و دەستدرێژیی سێکسی. کەسەکە لێرەدا ناونیشانێکی تایبەت بە لاساییکەرەوەی هەیە (لەگەڵ گفتوگۆکە " +
			"پیشان دەدرێت)، کە هەرچی لە لاساییکەرەوەوە دێت پێی جیا دەکرێتەوە.",
		"sim_conversation": "گفتوگۆکە", "sim_language": "زمانی کەسەکە", "sim_address": "ناونیشانی لاساییکەرەوە",
		"sim_you": "تۆ (وەک کەسەکە)", "sim_sawt": "صوت", "sim_redacted": "نهێنی: ئەوەی وترا هەڵناگیرێت.",
		"sim_say_hello": "هێشتا هیچ نەنووسراوە. یەکەم نامە بنووسە وەک هەر کەسێک (بۆ نموونە: سڵاو).",
		"sim_message":   "نامەکەت وەک کەسەکە", "sim_send": "بینێرە",
		"sim_new": "دەستپێکردنی گفتوگۆیەکی نوێ", "sim_start": "دەستپێکردنی گفتوگۆ",
		"sim_hint":            "گفتوگۆی نوێ کەسێکی نوێیە کە پێشتر نامەی بۆ نەناردووین. ئەو کەناڵە هەڵبژێرە کە دەتەوێت وەڵامەکان وەک ئەو ببینیت، و زمانی کەسەکە.",
		"sim_started":         "گفتوگۆیەکی نوێ دەستی پێکرد. یەکەم نامە بنووسە.",
		"sim_unavailable":     "لاساییکەرەوە لەم سێرڤەرەدا بەردەست نییە.",
		"sim_bad_choice":      "یەکێک لەو کەناڵ و زمانانە هەڵبژێرە کە پیشان دراون.",
		"sim_no_conversation": "سەرەتا گفتوگۆیەک دەست پێبکە.", "sim_empty": "سەرەتا نامەیەک بنووسە.",
		"sim_too_long": "نامەکە زۆر درێژە: زۆرترین %d پیت.", "sim_no_language": "هێشتا هەڵنەبژێردراوە",
		"sim_earlier": "تەنها دوایین نامەکانی ئەم گفتوگۆیە پیشان دەدرێن.",
	},
}

func init() {
	for lang, m := range toolTexts {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
