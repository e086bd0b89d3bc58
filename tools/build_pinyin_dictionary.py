"""Build kiosk/data/pinyin_words.gz, the on-screen keyboard's pinyin dictionary (kiosk/ime).

Source: jieba's `dict.txt`, the word-frequency list of the jieba segmenter (https://github.com/fxsjy/jieba),
MIT licence, as shipped in the PyPI package jieba 0.42.1 (349,046 lines "word frequency tag";
sha256 7197c3211ddd98962b036cdf40324d1ea2bfaa12bd028e68faa70111a88e12a8). Chosen because it is the
most used Chinese word-frequency list in Python, with a clear licence, and its counts rank everyday and
organisation words the way people expect (tests/test_ime.py checks some). Its corpus is not published
(the project's issues 482 and 896 ask; newspaper text and novels, its users say). The list itself is
not committed and jieba is not a runtime dependency: only the built file is, with jieba's licence
beside it (kiosk/data/pinyin_words.LICENSE.txt).

Pinyin comes from pypinyin (a runtime dependency, MIT) with its phrase dictionary, so polyphones are
read in context (银行 -> yin'hang, 重庆 -> chong'qing); ü is written v (绿 -> lv), as IMEs type it.

What is kept:
- the WORDS most frequent words of two or more Chinese characters (jieba's frequency);
- every character of GB 2312 (6,763), and every character of a kept word, under every reading
  pypinyin knows for it. A character's jieba frequency (as a one-character word) is shared out over its
  readings in proportion to how often the kept words read it so (的 in 目的 is di, in 的话 de), so a
  rare reading of a common character (有 as wei) does not push the usual characters of that syllable
  down;
- every word of three or more characters ending in a level of government or an organisation's kind
  (省 市 县 区 州 旗 镇 乡 局 院 所 厂 站 公司 中心): jieba counts 南明区 or 凯里市 only a few times, and
  customers' organisation names are made of them;
- words of organisation names and provinces (ORGANISATION_WORDS) raised by the frequency of jieba's
  ORGANISATION_RANK-th word, and instruments' names (INSTRUMENT_WORDS) by its INSTRUMENT_RANK-th (so
  they keep jieba's order among themselves), added if jieba lacks them: a lobby of an institute of
  metrology types these more than a newspaper does. Instruments rank lower because the kiosk boosts its
  own catalogue's names anyway. The institute's own vocabulary (its catalogue, its province's places)
  is boosted at run time on top of this (kiosk.ime.PinyinDictionary.boost).

Output: gzip'd, in sections, so that loading makes few Python objects (kiosk/ime/dictionary.py `parse`
says why). Postings are the (key, word) pairs, by key, most frequent first.

    kiosk-pinyin 2 KEYS WORDS BYTES\n      header: how many keys, postings, bytes of words
    uint32 LE x (KEYS + 1)                  the first posting of each key (and the end)
    uint32 LE x (WORDS + 1)                 where each posting's word starts in the words (characters)
    uint32 LE x WORDS                       each posting's frequency
    UTF-8 x BYTES                           the words, concatenated (啊阿呵...阿爸阿宝...贵州省...)
    ASCII                                   the pinyin keys, sorted, space-separated (a a'ba ... gui'zhou'sheng)

Deterministic (sorted by key, then frequency, highest first, then word; gzip mtime 0).

Regenerate (jieba into a throwaway venv, never into the kiosk's):

    python3 -m venv /tmp/jieba && /tmp/jieba/bin/pip install jieba==0.42.1
    .venv/bin/python tools/build_pinyin_dictionary.py \\
        /tmp/jieba/lib/python3.*/site-packages/jieba/dict.txt
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import sys
from array import array
from collections import defaultdict
from pathlib import Path

from pypinyin import Style, lazy_pinyin, pinyin

OUT = Path(__file__).resolve().parent.parent / "kiosk" / "data" / "pinyin_words.gz"
JIEBA_SHA256 = "7197c3211ddd98962b036cdf40324d1ea2bfaa12bd028e68faa70111a88e12a8"
WORDS = 120_000  # multi-character words kept (see the memory figure in bench/ime.py)
ORGANISATION_RANK = 200  # jieba's 200th word: 工程, 16869
INSTRUMENT_RANK = 2000  # its 2000th: 课程, 2765
HANZI = re.compile(r"[\u4e00-\u9fff]+")
LEVELS = re.compile(r"...*(省|市|县|区|州|旗|镇|乡|局|院|所|厂|站|公司|中心)")
# Syllables pypinyin gives that no pinyin keyboard types (嗯 n/ng, 呣 m, 哼 hng): not keys.
NOT_TYPED = {"m", "n", "ng", "hm", "hng"}
TYPED_AS = {"嗯": ("en",)}  # what IMEs offer instead

# Words of organisation names (kinds, trades, levels) and the provinces.
ORGANISATION_WORDS = """
有限公司 有限责任公司 股份有限公司 集团有限公司 分公司 子公司 总公司 集团 公司 科技 科技有限公司 技术
实业 工业 工程 建设 建筑 建工 电力 供电局 供电公司 电网 国家电网 电厂 发电厂 热电厂 变电站 自来水
自来水公司 水务 供水 水利 水利局 燃气 天然气 燃气公司 石油 石化 中石化 中石油 加油站 医院 人民医院
中医院 中医医院 妇幼保健院 卫生院 疾病预防控制中心 疾控中心 社区卫生服务中心 卫生 诊所 医药 制药 药业
研究所 研究院 研究中心 设计院 检测 检验 检测中心 检验检测 检测站 监测站 计量 计量所 计量院 测试 计量测试
计量检定 质量 质检 质量监督 市场监督管理局 市场监管局 环境监测 环保 生态环境 气象 气象局 地质 测绘
学校 大学 学院 职业技术学院 中学 小学 第一 第二 第三 第四 第五 人民 中心 管理局 管理处 分局 办事处
服务中心 经营部 门市部 加工厂 商贸 贸易 物流 运输 交通 汽车 机械 设备 仪器 仪表 电子 电器 电气 化工
材料 能源 矿业 煤矿 煤业 冶金 钢铁 水泥 食品 酒业 酒厂 茶业 农业 烟草 粮油 饲料 养殖 种植 合作社
专业合作社 开发区 高新区 工业园 酒店 宾馆 超市 商场 农贸市场 物业 房地产 汽车站 火车站 机场 银行
证券 保险 联通 移动 电信 消防 街道 社区
北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 江西省
山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 甘肃省 青海省 台湾省 内蒙古自治区
广西壮族自治区 西藏自治区 宁夏回族自治区 新疆维吾尔自治区 香港 澳门 自治区 自治州 自治县
"""
# Measuring instruments and the words of the trade (the catalogue adds the institute's own).
INSTRUMENT_WORDS = """
压力表 压力计 精密压力表 压力变送器 变送器 压力容器 安全阀 温度计 体温计 热电偶 热电阻 温湿度计 湿度计
电子天平 天平 砝码 电子秤 计价秤 台秤 地磅 汽车衡 衡器 血压计 心电图机 加油机 水表 电能表 电表 燃气表
流量计 卡尺 游标卡尺 千分尺 百分表 千分表 卷尺 钢卷尺 钢直尺 量块 塞尺 万用表 兆欧表 电流表 电压表
功率表 电阻箱 互感器 示波器 声级计 照度计 酸度计 电导率仪 密度计 粘度计 硬度计 测厚仪 粗糙度仪 计价器
出租车 扭矩扳手 测距仪 全站仪 水准仪 经纬仪 分光光度计 色谱仪 光谱仪 秒表 转速表 测速仪 酒精检测仪
呼出气体 辐射仪 锅炉 电梯 起重机 叉车 检定 校准 修理 维修 送检 证书 检定证书 校准证书
"""
DOMAIN = {**dict.fromkeys(ORGANISATION_WORDS.split(), ORGANISATION_RANK),
          **dict.fromkeys(INSTRUMENT_WORDS.split(), INSTRUMENT_RANK)}


def gb2312_characters() -> list[str]:
    """The 6,763 hanzi of GB 2312 (rows 16-87), in code order."""
    chars = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                ch = bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if HANZI.fullmatch(ch):
                chars.append(ch)
    return chars


def read_jieba(path: Path) -> dict[str, int]:
    freq: dict[str, int] = {}
    for line in path.read_text("utf-8").splitlines():
        word, count, *_ = line.split(" ")
        if HANZI.fullmatch(word):
            freq[word] = max(freq.get(word, 0), int(count))
    return freq


def word_reading(word: str) -> tuple[str, ...] | None:
    syllables = tuple(lazy_pinyin(word, style=Style.NORMAL))
    if len(syllables) != len(word) or any(not s.isascii() or not s.isalpha() or s in NOT_TYPED for s in syllables):
        return None
    return syllables


def char_readings(ch: str) -> tuple[str, ...]:
    if ch in TYPED_AS:
        return TYPED_AS[ch]
    found = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
    return tuple(dict.fromkeys(s for s in found if s.isascii() and s.isalpha() and s not in NOT_TYPED))


def build(jieba: dict[str, int]) -> list[tuple[str, str, int]]:
    multi = sorted(((w, f) for w, f in jieba.items() if len(w) > 1), key=lambda wf: (-wf[1], wf[0]))
    floor = {rank: multi[rank - 1][1] for rank in (ORGANISATION_RANK, INSTRUMENT_RANK)}
    words: dict[str, int] = dict(multi[:WORDS])
    words.update((w, f) for w, f in multi[WORDS:] if LEVELS.fullmatch(w))
    for word, rank in DOMAIN.items():
        words[word] = floor[rank] + jieba.get(word, 0)  # above the floor, in jieba's order

    rows: list[tuple[str, str, int]] = []
    # How often each character is read each way inside the kept words, weighted by their frequency.
    read_as: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for word, f in words.items():
        syllables = word_reading(word)
        if syllables is None:
            continue
        rows.append(("'".join(syllables), word, f))
        for ch, s in zip(word, syllables, strict=True):
            read_as[ch][s] += f

    chars = dict.fromkeys(gb2312_characters())
    chars.update(dict.fromkeys(ch for word in words for ch in word))
    for ch in chars:
        readings = char_readings(ch)
        if not readings:
            continue
        f = max(jieba.get(ch, 0), 1)
        seen = read_as.get(ch, {})
        # A reading no kept word uses is rare (有 is read wei in no common word): it gets frequency 1.
        # A character no kept word has goes by pypinyin's first reading, the usual one.
        weights = [seen.get(s, 0) for s in readings]
        if not any(weights):
            weights[0] = 1
        total = sum(weights)
        for s, w in zip(readings, weights, strict=True):
            rows.append((s, ch, max(1, f * w // total)))
    rows.sort(key=lambda r: (r[0], -r[2], r[1]))
    return rows


def write(rows: list[tuple[str, str, int]], out: Path) -> None:
    keys = list(dict.fromkeys(key for key, _, _ in rows))
    first = [i for i, row in enumerate(rows) if i == 0 or row[0] != rows[i - 1][0]] + [len(rows)]
    offsets = [0]
    for _, word, _ in rows:
        offsets.append(offsets[-1] + len(word))
    words = "".join(word for _, word, _ in rows).encode("utf-8")
    body = b"".join([
        f"kiosk-pinyin 2 {len(keys)} {len(rows)} {len(words)}\n".encode("ascii"),
        array("I", first).tobytes() if sys.byteorder == "little" else _swapped(first),
        array("I", offsets).tobytes() if sys.byteorder == "little" else _swapped(offsets),
        array("I", [f for _, _, f in rows]).tobytes() if sys.byteorder == "little" else _swapped(
            [f for _, _, f in rows]),
        words,
        " ".join(keys).encode("ascii"),
    ])
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(body)
    out.write_bytes(buffer.getvalue())


def _swapped(numbers: list[int]) -> bytes:
    found = array("I", numbers)
    found.byteswap()
    return found.tobytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dict_txt", type=Path, help="jieba 0.42.1's dict.txt")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    digest = hashlib.sha256(args.dict_txt.read_bytes()).hexdigest()
    if digest != JIEBA_SHA256:
        print(f"warning: {args.dict_txt} is not jieba 0.42.1's dict.txt (sha256 {digest})", file=sys.stderr)
    rows = build(read_jieba(args.dict_txt))
    write(rows, args.out)
    print(f"{args.out}: {len(rows)} entries, {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
