package console

// accountTexts are the words of two-step sign-in, the alert addresses on the account page
// and the caseworker's overdue line on the start page, by language and key; added to texts
// at start (TestTextsComplete checks every key is in every language).
var accountTexts = map[string]map[string]string{
	"en": {
		"code_title":  "Two-step sign-in",
		"code_intro":  "Open the authenticator app on your phone and type the 6-digit code it shows for Sawt.",
		"code_label":  "Code",
		"code_submit": "Continue",
		"code_lost":   "Lost your phone? An administrator can turn two-step sign-in off for you.",
		"code_cancel": "Cancel sign-in",
		"wrong_code":  "This code is not right, or it was used already. Type the code your app shows now.",

		"totp_title":            "Two-step sign-in",
		"totp_offer":            "With two-step sign-in, your password alone does not open your account: Sawt also asks for a code from an app on your phone.",
		"totp_turn_on":          "Turn on two-step sign-in",
		"totp_setup":            "Add this key to an authenticator app on your phone: type the key by hand, or copy the link below into the app. Then type the code the app shows, with your password.",
		"totp_key":              "Key (time-based, 6 digits, every 30 seconds):",
		"totp_uri":              "Link for the app",
		"totp_code":             "Code from your authenticator app",
		"totp_confirm":          "Turn on two-step sign-in",
		"totp_restart_hint":     "Could not add the key?",
		"totp_restart":          "Make a new key",
		"totp_is_on":            "Two-step sign-in is on: after your password, Sawt asks for a code from your phone. On since",
		"totp_turn_off":         "Turn off two-step sign-in",
		"totp_already_on":       "Two-step sign-in is already on.",
		"totp_no_setup":         "Please start again: make a new key first.",
		"totp_wrong_setup_code": "This code does not match the key. Check the time on your phone, and type the code the app shows now.",
		"totp_not_on":           "Two-step sign-in is not on.",
		"totp_turned_on":        "Two-step sign-in is on, and you have been signed out everywhere else.",
		"totp_turned_off":       "Two-step sign-in is off.",

		"alerts_title":       "Alerts about your work",
		"alerts_intro":       "Sawt can tell you by Telegram or SMS when a case assigned to you passes its deadline. The message gives only the case number and category.",
		"alert_telegram":     "Telegram chat ID (a number)",
		"alert_phone":        "Mobile number for SMS",
		"save_alerts":        "Save",
		"alert_bad_telegram": "A Telegram chat ID is a whole number.",
		"alert_bad_phone":    "This phone number is not valid. Write it in international form, with the country code.",
		"alerts_saved":       "Your alert addresses are saved.",

		"your_overdue": "Your cases past their deadline:",
	},
	"ar": {
		"code_title":  "التحقق بخطوتين",
		"code_intro":  "افتح تطبيق المصادقة على هاتفك واكتب الرمز المكوّن من 6 أرقام الذي يظهر لحساب صوت.",
		"code_label":  "الرمز",
		"code_submit": "متابعة",
		"code_lost":   "فقدت هاتفك؟ يمكن لمدير النظام إيقاف التحقق بخطوتين لحسابك.",
		"code_cancel": "إلغاء تسجيل الدخول",
		"wrong_code":  "هذا الرمز غير صحيح أو سبق استخدامه. اكتب الرمز الذي يظهر في التطبيق الآن.",

		"totp_title":            "التحقق بخطوتين",
		"totp_offer":            "مع التحقق بخطوتين لا تكفي كلمة المرور وحدها لفتح حسابك: يطلب صوت أيضًا رمزًا من تطبيق على هاتفك.",
		"totp_turn_on":          "تفعيل التحقق بخطوتين",
		"totp_setup":            "أضف هذا المفتاح إلى تطبيق مصادقة على هاتفك: اكتب المفتاح يدويًا، أو انسخ الرابط أدناه إلى التطبيق. ثم اكتب الرمز الذي يظهر في التطبيق مع كلمة المرور.",
		"totp_key":              "المفتاح (حسب الوقت، 6 أرقام، كل 30 ثانية):",
		"totp_uri":              "رابط للتطبيق",
		"totp_code":             "الرمز من تطبيق المصادقة",
		"totp_confirm":          "تفعيل التحقق بخطوتين",
		"totp_restart_hint":     "لم تتمكن من إضافة المفتاح؟",
		"totp_restart":          "إنشاء مفتاح جديد",
		"totp_is_on":            "التحقق بخطوتين مفعّل: بعد كلمة المرور يطلب صوت رمزًا من هاتفك. مفعّل منذ",
		"totp_turn_off":         "إيقاف التحقق بخطوتين",
		"totp_already_on":       "التحقق بخطوتين مفعّل مسبقًا.",
		"totp_no_setup":         "يرجى البدء من جديد: أنشئ مفتاحًا جديدًا أولًا.",
		"totp_wrong_setup_code": "هذا الرمز لا يطابق المفتاح. تحقّق من الوقت على هاتفك، واكتب الرمز الذي يظهر في التطبيق الآن.",
		"totp_not_on":           "التحقق بخطوتين غير مفعّل.",
		"totp_turned_on":        "تم تفعيل التحقق بخطوتين، وتم تسجيل خروجك من جميع الأجهزة الأخرى.",
		"totp_turned_off":       "تم إيقاف التحقق بخطوتين.",

		"alerts_title":       "تنبيهات عن عملك",
		"alerts_intro":       "يمكن لصوت إبلاغك عبر تيليجرام أو الرسائل القصيرة عندما تتجاوز حالة مسندة إليك موعدها. لا تتضمن الرسالة إلا رقم الحالة وفئتها.",
		"alert_telegram":     "معرّف محادثة تيليجرام (رقم)",
		"alert_phone":        "رقم الهاتف المحمول للرسائل القصيرة",
		"save_alerts":        "حفظ",
		"alert_bad_telegram": "معرّف محادثة تيليجرام يجب أن يكون عددًا صحيحًا.",
		"alert_bad_phone":    "رقم الهاتف هذا غير صالح. اكتبه بالصيغة الدولية مع رمز البلد.",
		"alerts_saved":       "تم حفظ عناوين التنبيه.",

		"your_overdue": "حالاتك التي تجاوزت موعدها:",
	},
	"ckb": {
		"code_title":  "چوونەژوورەوەی دوو هەنگاوی",
		"code_intro":  "ئەپی پشتڕاستکردنەوە لە مۆبایلەکەت بکەرەوە و ئەو کۆدە 6 ژمارەییە بنووسە کە بۆ صوت پیشانی دەدات.",
		"code_label":  "کۆد",
		"code_submit": "بەردەوام بە",
		"code_lost":   "مۆبایلەکەت ون کردووە؟ بەڕێوەبەری سیستەم دەتوانێت چوونەژوورەوەی دوو هەنگاوی بۆت بکوژێنێتەوە.",
		"code_cancel": "هەڵوەشاندنەوەی چوونەژوورەوە",
		"wrong_code":  "ئەم کۆدە هەڵەیە یان پێشتر بەکارهاتووە. ئەو کۆدە بنووسە کە ئێستا ئەپەکە پیشانی دەدات.",

		"totp_title":            "چوونەژوورەوەی دوو هەنگاوی",
		"totp_offer":            "بە چوونەژوورەوەی دوو هەنگاوی، وشەی نهێنی بە تەنها هەژمارەکەت ناکاتەوە: صوت کۆدێکیش لە ئەپێک لە مۆبایلەکەت داوا دەکات.",
		"totp_turn_on":          "چالاککردنی چوونەژوورەوەی دوو هەنگاوی",
		"totp_setup":            "ئەم کلیلە بخەرە ناو ئەپێکی پشتڕاستکردنەوە لە مۆبایلەکەت: کلیلەکە بە دەست بنووسە، یان بەستەرەکەی خوارەوە کۆپی بکە بۆ ناو ئەپەکە. پاشان ئەو کۆدەی ئەپەکە پیشانی دەدات لەگەڵ وشەی نهێنییەکەت بنووسە.",
		"totp_key":              "کلیل (بەپێی کات، 6 ژمارە، هەر 30 چرکە جارێک):",
		"totp_uri":              "بەستەر بۆ ئەپەکە",
		"totp_code":             "کۆد لە ئەپی پشتڕاستکردنەوە",
		"totp_confirm":          "چالاککردنی چوونەژوورەوەی دوو هەنگاوی",
		"totp_restart_hint":     "نەتتوانی کلیلەکە زیاد بکەیت؟",
		"totp_restart":          "کلیلێکی نوێ دروست بکە",
		"totp_is_on":            "چوونەژوورەوەی دوو هەنگاوی چالاکە: دوای وشەی نهێنی، صوت کۆدێک لە مۆبایلەکەت داوا دەکات. چالاکە لە",
		"totp_turn_off":         "کوژاندنەوەی چوونەژوورەوەی دوو هەنگاوی",
		"totp_already_on":       "چوونەژوورەوەی دوو هەنگاوی پێشتر چالاک کراوە.",
		"totp_no_setup":         "تکایە لە سەرەتاوە دەست پێ بکەرەوە: یەکەم جار کلیلێکی نوێ دروست بکە.",
		"totp_wrong_setup_code": "ئەم کۆدە لەگەڵ کلیلەکە ناگونجێت. کاتی مۆبایلەکەت بپشکنە و ئەو کۆدە بنووسە کە ئێستا ئەپەکە پیشانی دەدات.",
		"totp_not_on":           "چوونەژوورەوەی دوو هەنگاوی چالاک نییە.",
		"totp_turned_on":        "چوونەژوورەوەی دوو هەنگاوی چالاک کرا، و لە هەموو ئامێرەکانی ترەوە چوویتە دەرەوە.",
		"totp_turned_off":       "چوونەژوورەوەی دوو هەنگاوی کوژایەوە.",

		"alerts_title":       "ئاگادارکردنەوە دەربارەی کارەکەت",
		"alerts_intro":       "صوت دەتوانێت لە ڕێگەی تێلێگرام یان نامەی کورتەوە ئاگادارت بکاتەوە کاتێک کاتی دیاریکراوی کەیسێکی سپێردراو بە تۆ تێدەپەڕێت. نامەکە تەنها ژمارە و جۆری کەیسەکەی تێدایە.",
		"alert_telegram":     "ناسنامەی گفتوگۆی تێلێگرام (ژمارە)",
		"alert_phone":        "ژمارەی مۆبایل بۆ نامەی کورت",
		"save_alerts":        "پاشەکەوتکردن",
		"alert_bad_telegram": "ناسنامەی گفتوگۆی تێلێگرام دەبێت ژمارەیەکی تەواو بێت.",
		"alert_bad_phone":    "ئەم ژمارە تەلەفۆنە دروست نییە. بە شێوازی نێودەوڵەتی و لەگەڵ کۆدی وڵات بینووسە.",
		"alerts_saved":       "ناونیشانەکانی ئاگادارکردنەوەت پاشەکەوت کران.",

		"your_overdue": "ئەو کەیسانەت کە کاتی دیاریکراویان تێپەڕیوە:",
	},
}

func init() {
	for lang, m := range accountTexts {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
