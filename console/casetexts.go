package console

// caseTexts are the words of the case pages, by language and key; added to texts at start
// (TestTextsComplete checks every key is in every language). Values of a case (category,
// status, …) are keyed "<kind>.<code>".
var caseTexts = map[string]map[string]string{
	"en": {
		"nav_cases": "Case queue", "cases_title": "Cases", "filter": "Show", "clear": "Clear",
		"any": "Any", "overdue_only": "Overdue only", "overdue": "Overdue", "search_reference": "Case number",
		"col_reference": "Number", "col_category": "Category", "col_priority": "Priority", "col_status": "Status",
		"col_channel": "Channel", "col_language": "Language", "col_governorate": "Governorate", "col_site": "Site",
		"col_assignee": "Assigned to", "col_due": "Due", "no_cases": "No case matches.", "next_page": "Next page",
		"previous_page": "Previous page", "bad_filter": "This filter is not known: %s.",
		"category.feedback": "Feedback", "category.information_request": "Request for information",
		"category.assistance_request": "Request for assistance", "category.minor_dissatisfaction": "Minor dissatisfaction",
		"category.major_dissatisfaction": "Major dissatisfaction", "category.misconduct_fraud": "Staff misconduct or fraud",
		"category.safety_security": "Safety and security", "category.out_of_scope": "Out of scope", "category.other": "Other",
		"status.new": "New", "status.acknowledged": "Acknowledged", "status.referred": "Referred",
		"status.in_progress": "In progress", "status.resolved": "Resolved", "status.closed": "Closed",
		"priority.low": "Low", "priority.normal": "Normal", "priority.high": "High", "priority.critical": "Critical",
		"channel.sms": "SMS", "channel.telegram": "Telegram", "channel.voice": "Phone", "channel.terminal": "Terminal",
		"lang.ar": "Arabic", "lang.ckb": "Sorani", "lang.badini": "Badini", "lang.en": "English",
		"governorate.ninewa": "Ninewa", "governorate.duhok": "Duhok", "governorate.erbil": "Erbil",
		"governorate.sulaymaniyah": "Sulaymaniyah", "governorate.kirkuk": "Kirkuk", "governorate.anbar": "Anbar",
		"governorate.baghdad": "Baghdad", "governorate.basra": "Basra", "governorate.other": "Another governorate",
	},
	"ar": {
		"nav_cases": "قائمة الحالات", "cases_title": "الحالات", "filter": "عرض", "clear": "مسح",
		"any": "الكل", "overdue_only": "المتأخرة فقط", "overdue": "متأخرة", "search_reference": "رقم الحالة",
		"col_reference": "الرقم", "col_category": "الفئة", "col_priority": "الأولوية", "col_status": "الحالة",
		"col_channel": "القناة", "col_language": "اللغة", "col_governorate": "المحافظة", "col_site": "الموقع",
		"col_assignee": "المسؤول", "col_due": "الموعد", "no_cases": "لا توجد حالة مطابقة.", "next_page": "الصفحة التالية",
		"previous_page": "الصفحة السابقة", "bad_filter": "هذه التصفية غير معروفة: %s.",
		"category.feedback": "رأي أو ملاحظة", "category.information_request": "طلب معلومات",
		"category.assistance_request": "طلب مساعدة", "category.minor_dissatisfaction": "عدم رضا بسيط",
		"category.major_dissatisfaction": "عدم رضا كبير", "category.misconduct_fraud": "سوء سلوك موظفين أو احتيال",
		"category.safety_security": "السلامة والأمن", "category.out_of_scope": "خارج النطاق", "category.other": "أخرى",
		"status.new": "جديدة", "status.acknowledged": "تم الاستلام", "status.referred": "محالة",
		"status.in_progress": "قيد المعالجة", "status.resolved": "تمت الإجابة", "status.closed": "مغلقة",
		"priority.low": "منخفضة", "priority.normal": "عادية", "priority.high": "عالية", "priority.critical": "حرجة",
		"channel.sms": "رسائل SMS", "channel.telegram": "تيليغرام", "channel.voice": "هاتف", "channel.terminal": "الطرفية",
		"lang.ar": "العربية", "lang.ckb": "السورانية", "lang.badini": "البادينية", "lang.en": "الإنجليزية",
		"governorate.ninewa": "نينوى", "governorate.duhok": "دهوك", "governorate.erbil": "أربيل",
		"governorate.sulaymaniyah": "السليمانية", "governorate.kirkuk": "كركوك", "governorate.anbar": "الأنبار",
		"governorate.baghdad": "بغداد", "governorate.basra": "البصرة", "governorate.other": "محافظة أخرى",
	},
	"ckb": {
		"nav_cases": "لیستی کەیسەکان", "cases_title": "کەیسەکان", "filter": "پیشاندان", "clear": "سڕینەوە",
		"any": "هەموو", "overdue_only": "تەنها دواکەوتووەکان", "overdue": "دواکەوتوو", "search_reference": "ژمارەی کەیس",
		"col_reference": "ژمارە", "col_category": "جۆر", "col_priority": "گرنگی", "col_status": "بار",
		"col_channel": "کەناڵ", "col_language": "زمان", "col_governorate": "پارێزگا", "col_site": "شوێن",
		"col_assignee": "بەرپرس", "col_due": "کاتی دیاریکراو", "no_cases": "هیچ کەیسێک نییە.", "next_page": "پەڕەی دواتر",
		"previous_page": "پەڕەی پێشوو", "bad_filter": "ئەم پاڵاوتنە نەناسراوە: %s.",
		"category.feedback": "ڕا و تێبینی", "category.information_request": "داوای زانیاری",
		"category.assistance_request": "داوای یارمەتی", "category.minor_dissatisfaction": "ناڕازیبوونی بچووک",
		"category.major_dissatisfaction": "ناڕازیبوونی گەورە", "category.misconduct_fraud": "ڕەفتاری خراپی کارمەند یان فێڵ",
		"category.safety_security": "سەلامەتی و ئاسایش", "category.out_of_scope": "دەرەوەی بوار", "category.other": "جۆری تر",
		"status.new": "نوێ", "status.acknowledged": "وەرگیرا", "status.referred": "ڕەوانەکرا",
		"status.in_progress": "لە کاردایە", "status.resolved": "وەڵامدرایەوە", "status.closed": "داخرا",
		"priority.low": "کەم", "priority.normal": "ئاسایی", "priority.high": "بەرز", "priority.critical": "زۆر گرنگ",
		"channel.sms": "SMS", "channel.telegram": "تێلێگرام", "channel.voice": "تەلەفۆن", "channel.terminal": "تێرمیناڵ",
		"lang.ar": "عەرەبی", "lang.ckb": "سۆرانی", "lang.badini": "بادینی", "lang.en": "ئینگلیزی",
		"governorate.ninewa": "نەینەوا", "governorate.duhok": "دهۆک", "governorate.erbil": "هەولێر",
		"governorate.sulaymaniyah": "سلێمانی", "governorate.kirkuk": "کەرکووک", "governorate.anbar": "ئەنبار",
		"governorate.baghdad": "بەغدا", "governorate.basra": "بەسرە", "governorate.other": "پارێزگایەکی تر",
	},
}

func init() {
	for lang, m := range caseTexts {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
