package console

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Languages of the console's pages: English, Arabic and Sorani (Central Kurdish). Staff
// choose one (the language of their account); a page before sign-in follows ?lang= or the
// browser's Accept-Language.
func Languages() []string { return []string{"en", "ar", "ckb"} }

// ValidLanguage reports whether lang is one of the console's languages.
func ValidLanguage(lang string) bool { return slices.Contains(Languages(), lang) }

// languageNames are each language's name in itself, for the links between them.
var languageNames = map[string]string{"en": "English", "ar": "العربية", "ckb": "کوردی"}

// rtl are the languages written right to left.
var rtl = map[string]bool{"ar": true, "ckb": true}

// texts are the console's words, by language and key. Every key is in every language
// (TestTextsComplete). A text with %s or %d is formatted with fmt.
var texts = map[string]map[string]string{
	"en": {
		"change_language": "Language of the console", "save_language": "Change the language", "language_changed": "The console is now in this language.",
		"app":              "Sawt console",
		"login_title":      "Sign in",
		"email":            "Email",
		"password":         "Password",
		"sign_in":          "Sign in",
		"sign_out":         "Sign out",
		"wrong_login":      "Wrong email or password.",
		"throttled":        "Too many failed sign-ins. Try again in %s.",
		"bad_form":         "The form could not be read. Please try again.",
		"home_title":       "Welcome",
		"role":             "Role",
		"language":         "Language",
		"your_pages":       "What you can open",
		"nav_account":      "Your account and password",
		"account_title":    "Your account",
		"change_password":  "Change your password",
		"current_password": "Current password",
		"new_password":     "New password (at least 12 characters)",
		"repeat_password":  "New password again",
		"save_password":    "Change password",
		"wrong_current":    "Your current password is wrong.",
		"too_short":        "The new password must have at least 12 characters.",
		"too_long":         "The new password is too long.",
		"mismatch":         "The two new passwords are not the same.",
		"same_password":    "Choose a password different from the current one.",
		"changed":          "Your password has been changed, and you have been signed out everywhere else.",
		"one_time":         "You signed in with a one-time password. Choose your own password to continue.",
		"forbidden_title":  "Not allowed",
		"forbidden":        "Your role (%s) cannot open this page.",
		"cross_site":       "This form was sent from another site, so it was refused. Open the console yourself and try again.",
		"error_title":      "Something went wrong",
		"error":            "Something went wrong on our side. Please try again in a moment.",
		"back_home":        "Back to the start page",
		"role_admin":       "Administrator",
		"role_cwc":         "Communicating with communities (campaigns, distributions)",
		"role_caseworker":  "Caseworker",
		"role_psea":        "PSEA focal point",
		"role_viewer":      "Viewer (dashboards)",
	},
	"ar": {
		"change_language": "لغة لوحة الموظفين", "save_language": "تغيير اللغة", "language_changed": "أصبحت لوحة الموظفين بهذه اللغة.",
		"app":              "لوحة موظفي صوت",
		"login_title":      "تسجيل الدخول",
		"email":            "البريد الإلكتروني",
		"password":         "كلمة المرور",
		"sign_in":          "دخول",
		"sign_out":         "تسجيل الخروج",
		"wrong_login":      "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
		"throttled":        "محاولات دخول فاشلة كثيرة. حاول مرة أخرى بعد %s.",
		"bad_form":         "تعذّرت قراءة النموذج. يرجى المحاولة مرة أخرى.",
		"home_title":       "أهلاً بك",
		"role":             "الدور",
		"language":         "اللغة",
		"your_pages":       "الصفحات المتاحة لك",
		"nav_account":      "حسابك وكلمة المرور",
		"account_title":    "حسابك",
		"change_password":  "تغيير كلمة المرور",
		"current_password": "كلمة المرور الحالية",
		"new_password":     "كلمة المرور الجديدة (12 حرفًا على الأقل)",
		"repeat_password":  "أعد كتابة كلمة المرور الجديدة",
		"save_password":    "تغيير كلمة المرور",
		"wrong_current":    "كلمة المرور الحالية غير صحيحة.",
		"too_short":        "يجب ألّا تقل كلمة المرور الجديدة عن 12 حرفًا.",
		"too_long":         "كلمة المرور الجديدة طويلة جدًا.",
		"mismatch":         "كلمتا المرور الجديدتان غير متطابقتين.",
		"same_password":    "اختر كلمة مرور تختلف عن كلمة المرور الحالية.",
		"changed":          "تم تغيير كلمة المرور، وتم تسجيل خروجك من جميع الأجهزة الأخرى.",
		"one_time":         "لقد سجّلت الدخول بكلمة مرور لمرة واحدة. اختر كلمة مرور خاصة بك للمتابعة.",
		"forbidden_title":  "غير مسموح",
		"forbidden":        "لا يسمح دورك (%s) بفتح هذه الصفحة.",
		"cross_site":       "رُفض هذا النموذج لأنه أُرسل من موقع آخر. افتح لوحة الموظفين بنفسك وحاول مرة أخرى.",
		"error_title":      "حدث خطأ",
		"error":            "حدث خطأ من جهتنا. يرجى المحاولة مرة أخرى بعد قليل.",
		"back_home":        "العودة إلى الصفحة الرئيسية",
		"role_admin":       "مدير النظام",
		"role_cwc":         "التواصل مع المجتمعات (الحملات والتوزيعات)",
		"role_caseworker":  "مسؤول حالات",
		"role_psea":        "مسؤول الحماية من الاستغلال والاعتداء الجنسيين",
		"role_viewer":      "مُطّلع (لوحات الإحصاءات)",
	},
	"ckb": {
		"change_language": "زمانی کۆنسۆڵ", "save_language": "زمانەکە بگۆڕە", "language_changed": "کۆنسۆڵەکە ئێستا بەم زمانەیە.",
		"app":              "پانێڵی کارمەندانی صوت",
		"login_title":      "چوونەژوورەوە",
		"email":            "ئیمەیڵ",
		"password":         "وشەی نهێنی",
		"sign_in":          "چوونەژوورەوە",
		"sign_out":         "چوونەدەرەوە",
		"wrong_login":      "ئیمەیڵ یان وشەی نهێنی هەڵەیە.",
		"throttled":        "چەند جار بە هەڵە هەوڵی چوونەژوورەوەت داوە. دوای %s دووبارە هەوڵ بدەرەوە.",
		"bad_form":         "فۆرمەکە نەخوێندرایەوە. تکایە دووبارە هەوڵ بدەرەوە.",
		"home_title":       "بەخێربێیت",
		"role":             "ڕۆڵ",
		"language":         "زمان",
		"your_pages":       "ئەو پەڕانەی دەتوانیت بیانکەیتەوە",
		"nav_account":      "هەژمار و وشەی نهێنییەکەت",
		"account_title":    "هەژمارەکەت",
		"change_password":  "گۆڕینی وشەی نهێنی",
		"current_password": "وشەی نهێنیی ئێستا",
		"new_password":     "وشەی نهێنیی نوێ (لانیکەم 12 پیت)",
		"repeat_password":  "دووبارە وشەی نهێنیی نوێ بنووسەوە",
		"save_password":    "گۆڕینی وشەی نهێنی",
		"wrong_current":    "وشەی نهێنیی ئێستات هەڵەیە.",
		"too_short":        "وشەی نهێنیی نوێ دەبێت لانیکەم 12 پیت بێت.",
		"too_long":         "وشەی نهێنیی نوێ زۆر درێژە.",
		"mismatch":         "هەردوو وشە نهێنییە نوێیەکە وەک یەک نین.",
		"same_password":    "وشەیەکی نهێنی هەڵبژێرە کە جیاواز بێت لە وشە نهێنییەکەی ئێستا.",
		"changed":          "وشەی نهێنییەکەت گۆڕدرا، و لە هەموو ئامێرەکانی ترەوە چوویتە دەرەوە.",
		"one_time":         "بە وشەیەکی نهێنیی یەکجارەکی چوویتە ژوورەوە. بۆ بەردەوامبوون، وشەی نهێنیی خۆت هەڵبژێرە.",
		"forbidden_title":  "ڕێگەپێنەدراوە",
		"forbidden":        "ڕۆڵەکەت (%s) ڕێگە نادات ئەم پەڕەیە بکەیتەوە.",
		"cross_site":       "ئەم فۆرمە لە ماڵپەڕێکی ترەوە نێردرابوو، بۆیە ڕەتکرایەوە. خۆت پانێڵەکە بکەرەوە و دووبارە هەوڵ بدەرەوە.",
		"error_title":      "هەڵەیەک ڕوویدا",
		"error":            "هەڵەیەک لە لایەن ئێمەوە ڕوویدا. تکایە کەمێکی تر دووبارە هەوڵ بدەرەوە.",
		"back_home":        "گەڕانەوە بۆ پەڕەی سەرەکی",
		"role_admin":       "بەڕێوەبەری سیستەم",
		"role_cwc":         "پەیوەندی لەگەڵ کۆمەڵگاکان (هەڵمەت و دابەشکردن)",
		"role_caseworker":  "کارمەندی کەیس",
		"role_psea":        "بەرپرسی پاراستن لە چەوساندنەوە و دەستدرێژیی سێکسی",
		"role_viewer":      "بینەر (ئامارەکان)",
	},
}

// text is the text of key in lang, formatted with args when given.
func text(lang, key string, args ...any) string {
	s, ok := texts[lang][key]
	if !ok {
		s = texts["en"][key]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// minutes says a number of minutes in lang, with the noun in the form the number asks for.
func minutes(lang string, n int) string {
	switch lang {
	case "ar":
		switch {
		case n == 1:
			return "دقيقة واحدة"
		case n == 2:
			return "دقيقتين"
		case n >= 3 && n <= 10:
			return fmt.Sprintf("%d دقائق", n)
		default:
			return fmt.Sprintf("%d دقيقة", n)
		}
	case "ckb":
		return fmt.Sprintf("%d خولەک", n) // Sorani keeps the noun singular after a number
	default:
		if n == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", n)
	}
}

// langMatcher picks the console's language closest to what a browser asks for.
var langMatcher = language.NewMatcher([]language.Tag{language.English, language.Arabic, language.MustParse("ckb")})

// acceptLanguage is the console's language that best fits an Accept-Language header, or en.
func acceptLanguage(header string) string {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return "en"
	}
	return Languages()[i]
}

// roleName is a role's name in lang.
func roleName(lang, role string) string {
	if s, ok := texts[lang]["role_"+role]; ok {
		return s
	}
	return strings.ToUpper(role[:1]) + role[1:]
}
