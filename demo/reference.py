"""Reference data of the demo generators: names, places, jobs, products, what
managers talk about. One source for the demo bank (`demo.people`) and the extract
generator (`demo.extract`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from customers.choices import AccountCategory, Channel, InteractionKind

USD_CNY = 7.1245

# (surname, pinyin, relative frequency per 10,000)
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 712), ("李", "li", 719), ("张", "zhang", 683), ("刘", "liu", 538), ("陈", "chen", 453),
    ("杨", "yang", 308), ("黄", "huang", 223), ("赵", "zhao", 229), ("吴", "wu", 205), ("周", "zhou", 193),
    ("徐", "xu", 167), ("孙", "sun", 154), ("马", "ma", 144), ("朱", "zhu", 126), ("胡", "hu", 131),
    ("郭", "guo", 115), ("何", "he", 106), ("林", "lin", 95), ("高", "gao", 100), ("罗", "luo", 90),
    ("郑", "zheng", 80), ("梁", "liang", 80), ("谢", "xie", 66), ("宋", "song", 63), ("唐", "tang", 62),
    ("许", "xu", 60), ("韩", "han", 60), ("冯", "feng", 55), ("邓", "deng", 55), ("曹", "cao", 52),
    ("彭", "peng", 50), ("曾", "zeng", 48), ("肖", "xiao", 47), ("田", "tian", 45), ("董", "dong", 44),
    ("袁", "yuan", 42), ("潘", "pan", 41), ("于", "yu", 40), ("蒋", "jiang", 39), ("蔡", "cai", 38),
    ("余", "yu", 37), ("杜", "du", 36), ("叶", "ye", 35), ("程", "cheng", 34), ("苏", "su", 33),
    ("魏", "wei", 32), ("吕", "lv", 31), ("丁", "ding", 30), ("任", "ren", 30), ("沈", "shen", 29),
    ("姚", "yao", 28), ("卢", "lu", 28), ("姜", "jiang", 27), ("崔", "cui", 26), ("钟", "zhong", 26),
    ("谭", "tan", 25), ("陆", "lu", 24), ("汪", "wang", 24), ("范", "fan", 23), ("金", "jin", 23),
    ("石", "shi", 22), ("廖", "liao", 22), ("贾", "jia", 21), ("夏", "xia", 20), ("韦", "wei", 20),
    ("付", "fu", 20), ("方", "fang", 19), ("白", "bai", 18), ("邹", "zou", 18), ("孟", "meng", 17),
    ("熊", "xiong", 17), ("秦", "qin", 16), ("邱", "qiu", 16), ("江", "jiang", 16), ("尹", "yin", 15),
    ("薛", "xue", 15), ("闫", "yan", 14), ("段", "duan", 14), ("雷", "lei", 14), ("侯", "hou", 13),
    ("龙", "long", 13), ("史", "shi", 13), ("陶", "tao", 12), ("黎", "li", 12), ("贺", "he", 12),
    ("顾", "gu", 11), ("毛", "mao", 11), ("郝", "hao", 11), ("龚", "gong", 10), ("邵", "shao", 10),
    ("万", "wan", 10), ("钱", "qian", 10), ("严", "yan", 10), ("武", "wu", 9), ("戴", "dai", 9),
    ("莫", "mo", 8), ("孔", "kong", 8), ("向", "xiang", 8), ("汤", "tang", 8), ("常", "chang", 8),
    ("欧阳", "ouyang", 2.0), ("司马", "sima", 0.5), ("上官", "shangguan", 0.5), ("诸葛", "zhuge", 0.4),
    ("东方", "dongfang", 0.3), ("慕容", "murong", 0.2),
]  # fmt: skip
MALE_CHARS = list(
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国文志海峰亮成东晨博轩睿航"
    "毅鸿振庆永刚铭昊天瑞哲宏晓子嘉泽锋松江"
)
FEMALE_CHARS = list(
    "芳娜敏静丽艳娟霞秀英玲桂兰萍红燕琳婷雪慧颖倩洁莉佳欣怡悦雨涵梦琪晶月凤珍玉梅蕾薇婉琳岚晓思"
    "雅楠菲露瑶彤萱冰丹"
)

# Outlet code -> (city, district of the outlet, other districts of the city)
OUTLET_PLACES: dict[str, tuple[str, str]] = {
    "11101": ("北京市", "海淀区"),
    "11102": ("北京市", "海淀区"),
    "11201": ("北京市", "朝阳区"),
    "11202": ("北京市", "朝阳区"),
    "12101": ("上海市", "浦东新区"),
    "12102": ("上海市", "浦东新区"),
    "12201": ("上海市", "黄浦区"),
    "12202": ("上海市", "黄浦区"),
}
OUTLET_WEIGHT = {"11101": 1.4, "11102": 0.9, "11201": 1.3, "11202": 1.0,
                  "12101": 1.5, "12102": 0.8, "12201": 1.1, "12202": 1.0}  # fmt: skip
STREETS: dict[str, list[str]] = {
    "海淀区": [
        "中关村大街",
        "学院路",
        "知春路",
        "北四环西路",
        "成府路",
        "清华东路",
        "万泉河路",
        "西三环北路",
    ],
    "朝阳区": ["建国路", "东三环中路", "望京街", "阜通东大街", "朝阳北路", "光华路", "酒仙桥路", "北辰东路"],
    "东城区": ["东长安街", "王府井大街", "东直门内大街", "朝阳门北大街"],
    "西城区": ["金融大街", "西单北大街", "复兴门内大街", "德胜门外大街"],
    "丰台区": ["丰台北路", "南三环西路", "科学城路"],
    "浦东新区": ["陆家嘴环路", "世纪大道", "张江路", "科苑路", "浦东南路", "东方路", "杨高中路", "锦绣路"],
    "黄浦区": ["南京东路", "中山东一路", "淮海中路", "西藏中路", "人民大道", "河南中路", "复兴中路"],
    "徐汇区": ["漕溪北路", "肇嘉浜路", "虹桥路", "天钥桥路"],
    "静安区": ["南京西路", "延安中路", "常德路", "北京西路"],
    "长宁区": ["长宁路", "仙霞路", "古北路"],
}
CITY_DISTRICTS = {
    "北京市": ["海淀区", "朝阳区", "东城区", "西城区", "丰台区"],
    "上海市": ["浦东新区", "黄浦区", "徐汇区", "静安区", "长宁区"],
}
COMMUNITIES = ["花园", "小区", "家园", "公寓", "苑", "新村", "名邸", "府"]
COMMUNITY_WORDS = [
    "阳光",
    "翠微",
    "锦绣",
    "金色",
    "世纪",
    "明珠",
    "紫荆",
    "华府",
    "碧水",
    "银河",
    "东方",
    "和平",
]

OCCUPATIONS = [
    ("公司职员", 22), ("工程师", 10), ("教师", 6), ("医生", 3), ("护士", 2), ("公务员", 5),
    ("个体经营者", 8), ("企业管理人员", 7), ("销售人员", 6), ("律师", 1), ("会计", 4),
    ("自由职业", 5), ("金融从业人员", 3), ("科研人员", 2), ("程序员", 5), ("设计师", 2),
    ("司机", 2), ("厨师", 1), ("军人", 1),
]  # fmt: skip
BRANDS = ["华信", "鼎盛", "宏远", "天诚", "恒泰", "瑞丰", "金桥", "新世纪", "博远", "中科", "联创", "汇通",
           "泰和", "长城", "启明", "东升", "万达", "星河", "蓝海", "嘉禾"]  # fmt: skip
INDUSTRIES = ["科技", "贸易", "建设", "咨询", "医药", "物流", "传媒", "软件", "投资", "制造", "网络", "文化"]
INSTITUTIONS = {
    "北京市": ["北京大学", "清华大学", "北京协和医院", "海淀区教育委员会", "中国科学院计算技术研究所",
               "北京市朝阳区人民政府", "首都医科大学附属北京朝阳医院"],
    "上海市": ["复旦大学", "上海交通大学", "上海市第一人民医院", "浦东新区教育局", "上海市黄浦区人民政府",
               "中国科学院上海药物研究所"],
}  # fmt: skip
EDUCATION = [("PRI", 4), ("SEC", 28), ("BAC", 48), ("MAS", 15), ("DOC", 5)]
RISK = [("C1", 10), ("C2", 25), ("C3", 35), ("C4", 20), ("C5", 10)]
EMAIL_DOMAINS = [
    "163.com",
    "126.com",
    "qq.com",
    "sina.com",
    "sohu.com",
    "gmail.com",
    "outlook.com",
    "foxmail.com",
]

INTERACTION_KINDS = [
    (InteractionKind.CALL, 45), (InteractionKind.VISIT, 30), (InteractionKind.WECHAT, 12),
    (InteractionKind.SMS, 5), (InteractionKind.SERVICE_REQUEST, 6), (InteractionKind.COMPLAINT, 2),
]  # fmt: skip
SUBJECTS = {
    InteractionKind.CALL: [
        "理财产品到期提醒",
        "定期存款续存沟通",
        "客户回访",
        "基金定投推荐",
        "风险评估到期提醒",
        "信用卡分期推荐",
        "生日问候",
        "大额资金流出关怀",
    ],
    InteractionKind.VISIT: [
        "上门拜访：资产配置建议",
        "网点面谈：家庭理财规划",
        "保险产品介绍",
        "私人银行服务介绍",
        "房贷提前还款咨询",
        "养老规划沟通",
    ],
    InteractionKind.WECHAT: ["企业微信：新发理财产品推送", "企业微信：节日问候", "企业微信：市场观点分享"],
    InteractionKind.SMS: ["短信：存款到期提醒", "短信：生日祝福"],
    InteractionKind.SERVICE_REQUEST: ["挂失补卡", "修改预留手机号", "开立电子账户", "办理代发工资签约"],
    InteractionKind.COMPLAINT: ["投诉：网点排队时间过长", "投诉：手机银行转账失败"],
}
NOTES = ["", "", "", "客户有意向，约下周再联系。", "已发送产品说明书。", "客户暂无需求。",
          "客户关注收益率，偏好稳健型产品。", "已完成风险评估。", "客户表示满意。"]  # fmt: skip
CHANNELS = [
    (Channel.MOBILE, 50),
    (Channel.ATM, 15),
    (Channel.POS, 13),
    (Channel.ONLINE, 12),
    (Channel.COUNTER, 10),
]
CARS = [
    ("宝马", ["3系", "5系", "X3", "X5"]),
    ("奔驰", ["C级", "E级", "GLC"]),
    ("奥迪", ["A4L", "A6L", "Q5L"]),
    ("大众", ["帕萨特", "迈腾", "途观L"]),
    ("丰田", ["凯美瑞", "汉兰达", "卡罗拉"]),
    ("本田", ["雅阁", "CR-V"]),
    ("比亚迪", ["汉", "唐", "秦PLUS", "海豹"]),
    ("特斯拉", ["Model 3", "Model Y"]),
    ("理想", ["L7", "L9"]),
    ("蔚来", ["ET5", "ES6"]),
]
TIME_TERMS = [(90, "03M"), (180, "06M"), (365, "12M"), (730, "24M"), (1095, "36M"), (1825, "60M")]
PRODUCTS: dict[str, list[str]] = {
    AccountCategory.DEP_CUR: ["DC-DEBIT", "DC-DEBIT", "DC-SALARY"],
    AccountCategory.WEALTH: ["WM-2025A", "WM-2025B", "WM-2026A", "WM-CASH", "WM-STABLE"],
    AccountCategory.FUND: ["FD-000001", "FD-110011", "FD-161725", "FD-519732", "FD-005827"],
    AccountCategory.INSURANCE: ["INS-ANNUITY", "INS-LIFE", "INS-HEALTH"],
    AccountCategory.CUSTODY: ["CUST-SEC"],
    AccountCategory.LOAN_MORTGAGE: ["LN-MORTGAGE"],
    AccountCategory.LOAN_CONSUMER: ["LN-CONSUMER", "LN-CAR"],
    AccountCategory.CREDIT_CARD: ["CC-STANDARD", "CC-GOLD", "CC-PLATINUM"],
}
# 19-digit account numbers: 4-digit prefix + 10-digit index scramble + slot + branch + check.
ACCOUNT_PREFIX = {
    AccountCategory.DEP_TIME: "1101",
    AccountCategory.WEALTH: "2201",
    AccountCategory.FUND: "2301",
    AccountCategory.INSURANCE: "2401",
    AccountCategory.CUSTODY: "2501",
    AccountCategory.LOAN_MORTGAGE: "3101",
    AccountCategory.LOAN_CONSUMER: "3201",
    AccountCategory.LOAN_BUSINESS: "3301",
}


def cumulative(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
