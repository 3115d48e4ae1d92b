package sim

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// The data the district publishes: its earning rules (积分礼遇办法), its service
// menu (服务菜单) and its gift catalogue (礼遇).

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// scheme is the "益+积分 金•礼遇" scheme as simulated: 10 points an hour (12
// for care, relief and tutoring), doubled on festival days, 5 points for a
// five-star evaluation, capped per activity, day and month.
func scheme(lifetime time.Duration) points.Scheme {
	return points.Scheme{
		HoursStep:           dec("0.5"),
		HoursRounding:       points.RoundDown,
		MaxHoursPerActivity: dec("12"),
		Rules: []points.Rule{{
			ID:        "jt-2023-v1",
			ValidFrom: time.Date(2023, 1, 1, 0, 0, 0, 0, cst),
			Rates: map[string]decimal.Decimal{
				"*": dec("10"), "care": dec("12"), "relief": dec("12"), "tutoring": dec("12"),
			},
			Days: []points.DayMultiplier{
				{Date: "2023-03-05", Name: "学雷锋纪念日", Factor: dec("2")},
				{Date: "2023-06-22", Name: "端午节", Factor: dec("1.5")},
				{Date: "2023-09-29", Name: "中秋节", Factor: dec("1.5")},
				{Date: "2023-10-23", Name: "重阳节", Factor: dec("2")},
				{Date: "2024-03-05", Name: "学雷锋纪念日", Factor: dec("2")},
			},
			HardToStaff: dec("1.5"),
			Bonuses:     map[string]decimal.Decimal{"five_star": dec("5")},
			Caps:        points.Caps{PerActivity: dec("60"), PerDay: dec("100"), PerMonth: dec("1500")},
		}},
		PointsLifetime: lifetime,
		Penalties:      map[string]decimal.Decimal{"no_show": dec("10")},
		Location:       cst,
	}
}

// menuItem is one line of the service menu with its ordering weight.
type menuItem struct {
	code     dispatch.ItemCode
	name     string
	category string
	offeror  org.NodeID
	weight   float64
}

var menuItems = []menuItem{
	{"THEORY-BUS", "理论巴士进基层", "theory", centre, 8},
	{"CULTURE-SHOW", "文艺演出进社区", "culture", centre, 10},
	{"TUTOR", "坛有优学 助学支教", "tutoring", centre, 9},
	{"HEALTH", "医路有我 义诊健康咨询", "health", centre, 11},
	{"SCIENCE", "知数达理 科普讲座", "science", centre, 6},
	{"LEGAL", "法律服务进万家", "legal", centre, 6},
	{"CLEAN", "清洁家园", "environment", centre, 10},
	{"RELIEF", "扶贫帮困", "relief", centre, 5},
	{"CIVILITY", "文明劝导", "civility", centre, 6},
	{"FARM", "金农先锋 农技服务", "agriculture", centre, 4},
	{"SAFETY", "蓝盾卫士 安全宣传", "safety", centre, 4},
	{"MEDIA", "融媒在线 活动拍摄", "media", centre, 2},
	{"TAX", "税妈妈关爱", "tax", centre, 3},
	{"CARE", "冬暖夏凉关爱行动", "care", centre, 10},
	{"TRAFFIC", "护学岗 文明交通", "traffic", centre, 4},
	{"WISH", "心随所愿 微心愿圆梦", "care", "jt-xc", 3},
}

func (m menuItem) item() dispatch.MenuItem {
	return dispatch.MenuItem{
		Code: m.code, Name: m.name, Category: m.category, Offeror: m.offeror,
		Fields: []dispatch.Field{
			{Name: "date", Label: "希望服务日期", Kind: dispatch.FieldDate, Required: true},
			{Name: "people", Label: "服务人数", Kind: dispatch.FieldNumber, Required: true},
			{Name: "note", Label: "备注", Kind: dispatch.FieldText},
		},
	}
}

// gifts is the catalogue (礼遇): gifts in stock and unlimited privileges.
func gifts() []points.Item {
	return []points.Item{
		{ID: "GIFT-BAG", Owner: centre, Name: "文明实践帆布袋", Price: dec("50"), Stock: 400},
		{ID: "GIFT-BOOK", Owner: centre, Name: "图书馆新书优先借阅", Price: dec("30"), Unlimited: true, Limit: 2, LimitPeriod: points.PeriodMonth},
		{ID: "GIFT-CUP", Owner: centre, Name: "金善金美保温杯", Price: dec("120"), Stock: 150, Limit: 1, LimitPeriod: points.PeriodMonth},
		{ID: "GIFT-GYM", Owner: centre, Name: "体育馆免费入场券", Price: dec("80"), Unlimited: true, Limit: 2, LimitPeriod: points.PeriodMonth},
		{ID: "GIFT-CHECK", Owner: centre, Name: "健康体检套餐", Price: dec("600"), Stock: 20, MinLevel: 1},
		{ID: "GIFT-TEA", Owner: "jt-xb", Name: "茅山长青茶", Price: dec("200"), Stock: 60},
		{ID: "GIFT-PINGPONG", Owner: "jt-xc", Name: "华罗庚公园乒乓球课", Price: dec("100"), Stock: 80, Limit: 1, LimitPeriod: points.PeriodMonth},
	}
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鑫婷宇浩凯健俊帆晨阳佳欣怡雪慧琳建国志文斌宁")
