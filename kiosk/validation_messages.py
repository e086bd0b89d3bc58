"""Message texts for the keys raised by ``kiosk.validation`` (zh first, en second).

To be merged into the i18n catalogue; placeholders are filled from ``FieldError.values``.
"""

from __future__ import annotations

VALIDATION_MESSAGES: dict[str, tuple[str, str]] = {
    "error.required": ("必填", "Required"),
    "error.too_long": ("最多{max}个字", "At most {max} characters"),
    "error.control_chars": ("含有无法显示的控制字符，请删除后重新输入",
                            "Contains invisible control characters; please delete them and retype"),
    "error.emoji": ("不能使用表情符号或特殊符号，证书上无法打印",
                    "Emoji and special symbols cannot be printed on a certificate"),
    "error.phone": ("请输入正确的手机号或座机号", "Enter a valid mobile or landline number"),
    "error.credit_code_length": ("统一社会信用代码应为18位", "The unified social credit code has 18 characters"),
    "error.credit_code_chars": ("统一社会信用代码只含数字和大写字母，不含I、O、Z、S、V",
                                "The credit code uses digits and capital letters, never I, O, Z, S or V"),
    "error.credit_code_check": ("统一社会信用代码校验位不对，请核对",
                                "The check character of the credit code is wrong; please check it"),
    "error.quantity": ("数量应为1到{max}之间的整数", "Quantity must be a whole number from 1 to {max}"),
    # a generic text for clean_count(); callers may pass their own key with the same placeholders
    "error.count": ("请输入{min}到{max}之间的整数", "Enter a whole number from {min} to {max}"),
}
