package console

// dashTexts are the words of the dashboard, by language and key; added to texts at start.
var dashTexts = map[string]map[string]string{
	"en": {
		"nav_dashboard": "Dashboard", "dashboard_title": "Dashboard",
		"dash_sea_note": "Figures of all cases except those of sexual exploitation and abuse, which are not counted here.",
		"dash_open":     "Open cases", "dash_overdue": "Open cases past their deadline", "dash_last7": "Cases opened in the last 7 days",
		"dash_median_ack": "Median time to acknowledge", "dash_median_resolve": "Median time to resolve",
		"dash_hours": "%s hours", "dash_no_data": "No data yet",
		"dash_satisfaction": "Satisfaction with the answer (resolved cases)", "dash_sat_yes": "Satisfied",
		"dash_sat_no": "Not satisfied", "dash_sat_none": "Did not answer",
		"dash_by_week": "Cases opened per week, last 12 weeks", "dash_by_category": "Cases by category",
		"dash_by_channel": "Cases by channel", "dash_by_language": "Cases by language",
		"dash_by_governorate": "Cases by governorate", "dash_not_known": "Not known", "dash_no_cases": "No cases yet.",
	},
	"ar": {
		"nav_dashboard": "لوحة المؤشرات", "dashboard_title": "لوحة المؤشرات",
		"dash_sea_note": "أرقام جميع الحالات باستثناء حالات الاستغلال والاعتداء الجنسي، فهي لا تُحتسب هنا.",
		"dash_open":     "الحالات المفتوحة", "dash_overdue": "الحالات المفتوحة المتأخرة عن موعدها", "dash_last7": "الحالات المفتوحة خلال آخر 7 أيام",
		"dash_median_ack": "الوقت الوسيط حتى تأكيد الاستلام", "dash_median_resolve": "الوقت الوسيط حتى الإجابة",
		"dash_hours": "%s ساعة", "dash_no_data": "لا توجد بيانات بعد",
		"dash_satisfaction": "الرضا عن الإجابة (الحالات التي تمت الإجابة عليها)", "dash_sat_yes": "راضٍ",
		"dash_sat_no": "غير راضٍ", "dash_sat_none": "لم يُجب",
		"dash_by_week": "الحالات المفتوحة أسبوعيًا، آخر 12 أسبوعًا", "dash_by_category": "الحالات حسب الفئة",
		"dash_by_channel": "الحالات حسب القناة", "dash_by_language": "الحالات حسب اللغة",
		"dash_by_governorate": "الحالات حسب المحافظة", "dash_not_known": "غير معروف", "dash_no_cases": "لا توجد حالات بعد.",
	},
	"ckb": {
		"nav_dashboard": "داشبۆرد", "dashboard_title": "داشبۆرد",
		"dash_sea_note": "ژمارەی هەموو کەیسەکان جگە لە کەیسەکانی چەوساندنەوە و دەستدرێژیی سێکسی، کە لێرەدا ناژمێردرێن.",
		"dash_open":     "کەیسە کراوەکان", "dash_overdue": "کەیسە کراوە دواکەوتووەکان", "dash_last7": "کەیسەکانی 7 ڕۆژی ڕابردوو",
		"dash_median_ack": "ناوەندی کات تا پشتڕاستکردنەوەی وەرگرتن", "dash_median_resolve": "ناوەندی کات تا وەڵامدانەوە",
		"dash_hours": "%s کاتژمێر", "dash_no_data": "هێشتا هیچ زانیارییەک نییە",
		"dash_satisfaction": "ڕازیبوون لە وەڵام (کەیسە وەڵامدراوەکان)", "dash_sat_yes": "ڕازییە",
		"dash_sat_no": "ڕازی نییە", "dash_sat_none": "وەڵامی نەداوەتەوە",
		"dash_by_week": "کەیسەکان بەپێی هەفتە، 12 هەفتەی ڕابردوو", "dash_by_category": "کەیسەکان بەپێی جۆر",
		"dash_by_channel": "کەیسەکان بەپێی کەناڵ", "dash_by_language": "کەیسەکان بەپێی زمان",
		"dash_by_governorate": "کەیسەکان بەپێی پارێزگا", "dash_not_known": "نەزانراو", "dash_no_cases": "هێشتا هیچ کەیسێک نییە.",
	},
}

func init() {
	for lang, m := range dashTexts {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
