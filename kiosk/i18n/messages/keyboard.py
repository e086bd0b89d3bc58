"""The on-screen keyboard (screens/keyboard/): its word keys and the candidate bar's hints."""

MESSAGES: dict[str, tuple[str, str]] = {
    "keyboard.backspace": ("删除", "Delete"),
    "keyboard.space": ("空格", "Space"),
    "keyboard.split": ("'分词", "' split"),
    "keyboard.symbols": ("123", "123"),
    "keyboard.pinyin": ("拼音", "Pinyin"),
    "keyboard.chinese": ("中", "CN"),
    "keyboard.english": ("英", "EN"),
    "keyboard.next": ("下一项", "Next field"),
    "keyboard.done": ("完成", "Done"),
    "keyboard.pinyin_hint": ("拼音输入：点字母，再点要的词", "Pinyin: tap the letters, then the word"),
    "keyboard.english_hint": ("英文输入：字母原样输入", "English: letters go in as they are"),
    "keyboard.digits_hint": ("数字键盘", "Number pad"),
    "keyboard.loading": ("词库加载中，可先点拼音原样输入", "Loading words; tap the letters to type them as they are"),
    "keyboard.no_words": ("没有这个拼音的词，点拼音原样输入", "No word for this: tap the letters to type them"),
}
