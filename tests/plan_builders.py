"""Plans for the authoring tests, built as real files from readable data (python-docx,
openpyxl, in memory).

Tables are written as they are drawn: one string per row, cells separated by ``|``; a cell
``<`` is merged into the cell on its left, ``^`` into the cell above (so a header cell that
spans three rows is its text and two ``^`` below it). A newline in a cell's text is a line
break in the cell. The content of plan 161-KH/ĐTN (seed 002) is the seed's own: its heading, its
body with the deadlines, its ĐỀ CƯƠNG BÁO CÁO and its six «Phụ lục» with the merged header
cells the seed shows (including the seed's own inconsistencies, e.g. the first group of
Phụ lục 2 has no «CĐ, TC» column).
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import docx
import openpyxl
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from openpyxl.styles import Alignment, Border, Font, Side

Rows = Sequence[str]


@dataclass(frozen=True)
class DrawnTable:
    """A table as the plan draws it: the lines above it and its rows (``|``, ``<``, ``^``)."""

    caption: tuple[str, ...]
    rows: tuple[str, ...]

    @property
    def grid(self) -> list[list[str]]:
        return parse_rows(self.rows)


@dataclass(frozen=True)
class Heading:
    """The heading block of a Đoàn plan: issuer lines and «Số» on the left, the Đoàn's
    name and the place and date on the right."""

    left: tuple[str, ...]
    right: tuple[str, ...]


@dataclass(frozen=True)
class PlanDoc:
    """A whole plan: heading block, body paragraphs, appendix tables, signature block
    (two columns: «Nơi nhận» and the signer) and the ĐỀ CƯƠNG BÁO CÁO paragraphs."""

    heading: Heading | None
    body: tuple[str, ...]
    tables: tuple[DrawnTable, ...]
    signature: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    outline: tuple[str, ...] = ()


def parse_rows(rows: Rows) -> list[list[str]]:
    grid = [[cell.strip() for cell in row.split("|")] for row in rows]
    width = max(len(r) for r in grid)
    for r in grid:
        r.extend([""] * (width - len(r)))
    return grid


def merges(grid: list[list[str]]) -> list[tuple[int, int, int, int, str]]:
    """(row, col, last_row, last_col, text) of every drawn cell, merged ones once."""
    out = []
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if text in ("<", "^"):
                continue
            c1 = c
            while c1 + 1 < len(row) and row[c1 + 1] == "<":
                c1 += 1
            r1 = r
            while r1 + 1 < len(grid) and grid[r1 + 1][c] == "^":
                r1 += 1
            for rr in range(r, r1 + 1):
                for cc in range(c, c1 + 1):
                    if (rr, cc) != (r, c):
                        assert grid[rr][cc] in ("<", "^"), f"drawing error at {rr},{cc}"
            out.append((r, c, r1, c1, text))
    return out


# --------------------------------------------------------------------------- plan 161-KH/ĐTN

# The body and the ĐỀ CƯƠNG BÁO CÁO of seed 002, paragraph by paragraph.
BODY_161: tuple[str, ...] = (
    "KẾ HOẠCH",
    "Tổng kết 5 năm thực hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015",
    "của Ban Thường vụ Tỉnh ủy (khóa XVIII) về tiếp tục đổi mới,",
    "nâng cao chất lượng hoạt động của MTTQ, các đoàn thể",
    "chính trị - xã hội tỉnh Thanh Hóa, giai đoạn 2015 - 2020",
    "------------",
    ("Thực hiện Kế hoạch số 28-KH/HU, ngày 05/01/2021 của BTV Huyện ủy Thọ Xuân về tổng kết 5 "
     "năm thực hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015 của Ban Thường vụ Tỉnh ủy (khóa "
     "XVIII) về tiếp tục đổi mới, nâng cao chất lượng hoạt động của MTTQ, các đoàn thể chính "
     "trị - xã hội tỉnh Thanh Hóa, giai đoạn 2015 - 2020; BTV Huyện Đoàn xây dựng Kế hoạch tổ "
     "chức tổng kết, đánh giá với những nội dung cụ thể như sau:"),
    "I. MỤC ĐÍCH, YÊU CẦU",
    ("1. Tổng kết, đánh giá khách quan, cụ thể những kết quả đạt được, những tồn tại, hạn chế "
     "trong việc triển khai, thực hiện Nghị quyết số 02-NQ/TU của BTV Tỉnh ủy và Chương trình "
     "hành động số 17-CTr/HU của BTV Huyện ủy; xác định các nhiệm vụ, giải pháp để khắc phục "
     "những tồn tại, hạn chế nhằm tiếp tục triển khai, thực hiện có hiệu quả Nghị quyết trong "
     "những năm tiếp theo."),
    ("2. Việc đánh giá được tiến hành từ cấp cơ sở, đúng thời gian theo kế hoạch, đảm bảo "
     "nghiêm túc, thực chất, hiệu quả. Báo cáo tổng kết viết ngắn gọn, có số liệu minh chứng "
     "cụ thể; giới thiệu được những mô hình hay, cách làm sáng tạo, hiệu quả trong việc triển "
     "khai thực hiện từ cơ sở; đề ra những giải pháp sát hợp và mang tính khả thi cao."),
    ("3. Biểu dương, khen thưởng những tập thể, cá nhân có thành tích xuất sắc, những cách làm"
     " hay, sáng tạo; những mô hình, điển hình tiên tiến để tiếp tục duy trì, phát triển và "
     "nhân rộng qua đó nâng cao tỷ lệ tập hợp đoàn kết thanh niên."),
    "II. NỘI DUNG, HÌNH THỨC, THỜI GIAN TỔNG KẾT",
    "1. Nội dung tổng kết",
    ("- Đánh giá việc tổ chức quán triệt, tuyên truyền và triển khai thực hiện Nghị quyết số "
     "02-NQ/TU của BTV Tỉnh ủy và Chương trình hành động số 17-CTr/HU của BTV Huyện ủy."),
    ("- Những kết quả đạt được, cách làm hay; những hạn chế, yếu kém, nguyên nhân và bài học "
     "kinh nghiệm trong việc tổ chức thực hiện."),
    ("- Phương hướng, nhiệm vụ, giải pháp và kiến nghị, đề xuất để tiếp tục triển khai thực "
     "hiện có hiệu quả Nghị quyết trong những năm tiếp theo."),
    "(Có đề cương chi tiết và biểu phụ lục kèm theo).",
    "2. Hình thức, thời gian tổng kết",
    ("- Cấp cơ sở: Tổ chức hội nghị tổng kết, đánh giá kết quả triển khai, thực hiện Nghị "
     "quyết số 02-NQ/TU của BTV Tỉnh ủy; thời gian hoàn thành trước ngày 20/01/2021."),
    ("- Cấp huyện: Tổ chức hội nghị tổng kết, đánh giá kết quả triển khai, thực hiện Nghị "
     "quyết số 02-NQ/TU của BTV Tỉnh ủy; thời gian hoàn thành trước ngày 30/01/2021. (Gắn với "
     "Hội nghị tổng kết công tác Đoàn và phong trào TTN năm 2020, triển khai Chương trình công"
     " tác năm 2021)."),
    "III. TỔ CHỨC THỰC HIỆN",
    "1. Huyện Đoàn",
    ("- Xây dựng Kế hoạch tổng kết 5 năm thực hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015 của"
     " Ban Thường vụ Tỉnh ủy (khóa XVIII) về tiếp tục đổi mới, nâng cao chất lượng hoạt động "
     "của MTTQ, các đoàn thể chính trị - xã hội tỉnh Thanh Hóa, giai đoạn 2015 - 2020 và triển"
     " khai tới tất cả các cơ sở Đoàn trên địa bàn toàn huyện."),
    ("- Chỉ đạo, hướng dẫn, đôn đốc các cơ sở Đoàn tổ chức tổng kết đảm bảo đúng thực chất, "
     "hiệu quả, đúng thời gian quy định."),
    ("- Xây dựng báo cáo tổng kết đảm bảo đúng thực chất, có số liệu minh chứng cụ thể; giới "
     "thiệu được những mô hình hay, cách làm sáng tạo, hiệu quả trong việc triển khai thực "
     "hiện từ cơ sở. Tổ chức hội nghị tổng kết đảm bảo đúng thời gian theo kế hoạch đã đề ra."),
    ("- Lựa chọn các tập thể, cá nhân có thành tích xuất sắc, những cách làm hay, sáng tạo "
     "trong quá trình triển khai, thực hiện Nghị quyết để biểu dương, khen thưởng và đề xuất "
     "BTV Huyện ủy khen thưởng."),
    "2. Các cơ sở Đoàn",
    ("- Căn cứ Kế hoạch của BTV Huyện Đoàn, các đơn vị xây dựng Kế hoạch tổng kết 5 năm thực "
     "hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015 của Ban Thường vụ Tỉnh ủy (khóa XVIII) báo "
     "cáo cấp ủy và tổ chức tổng kết đảm bảo đúng thực chất, hiệu quả, đúng thời gian quy "
     "định."),
    ("- Báo cáo tổng kết 05 thực hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015 của Ban Thường "
     "vụ Tỉnh ủy (khóa XVIII) về tiếp tục đổi mới, nâng cao chất lượng hoạt động của MTTQ, các"
     " đoàn thể chính trị - xã hội tỉnh Thanh Hóa, giai đoạn 2015 - 2020 các đơn vị gửi về BTV"
     " Huyện Đoàn chậm nhất ngày 20/01/2021."),
    ("Trên đây là Kế hoạch tổng kết 5 năm thực hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015 "
     "của Ban Thường vụ Tỉnh ủy (khóa XVIII) về tiếp tục đổi mới, nâng cao chất lượng hoạt "
     "động của MTTQ, các đoàn thể chính trị - xã hội tỉnh Thanh Hóa, giai đoạn 2015 - 2020, "
     "BTV Huyện Đoàn đề nghị các cơ sở Đoàn nghiêm túc triển khai, thực hiện./."),
)

OUTLINE_161: tuple[str, ...] = (
    "ĐỀ CƯƠNG BÁO CÁO",
    "Tổng kết 5 năm thực hiện Nghị quyết số 02-NQ/TU, ngày 30/12/2015",
    "của Ban Thường vụ Tỉnh ủy (khóa XVIII) về tiếp tục đổi mới,",
    "nâng cao chất lượng hoạt động của MTTQ, các đoàn thể",
    "chính trị - xã hội tỉnh Thanh Hóa, giai đoạn 2015 - 2020",
    "( Kèm theo kế hoạch số 161-KH/ĐTN, ngày 06/01/2021 của BTV Huyện Đoàn)",
    "I. KHÁI QUÁT ĐẶC ĐIỂM, TÌNH HÌNH HOẠT ĐỘNG",
    ("- Khái quát tình hình (Số lượng chi đoàn/số lượng đoàn viên; Số lượng cán bộ Đoàn chủ "
     "chốt, Ủy viên BTV, BCH…)."),
    "- Những thuận lợi, khó khăn tác động đến hoạt động của tổ chức Đoàn.",
    "II. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN NGHỊ QUYẾT",
    ("- Việc tổ chức quán triệt, triển khai Nghị quyết 02-NQ/TU và Chương trình hành động số "
     "17-CTr/HU (hình thức, thời gian quán triệt, đối tượng, số lượng người được quán triệt)."),
    ("- Công tác thông tin, tuyên truyền về Nghị quyết số 02-NQ/TU, Chương trình hành động số "
     "17-CTr/HU."),
    ("- Việc cụ thể hóa, ban hành các văn bản triển khai thực hiện Nghị quyết 02-NQ/TU và "
     "Chương trình hành động số 17-CTr/HU."),
    ("- Công tác kiểm tra, giám sát việc thực hiện Nghị quyết 02-NQ/TU; kiểm tra hoạt động của"
     " các chi đoàn (số cuộc/số đơn vị được kiểm tra)."),
    "III. KẾT QUẢ THỰC HIỆN",
    "1. Kết quả thực hiện các mục tiêu cụ thể của Nghị quyết",
    ("Đánh giá kết quả thực hiện các mục tiêu liên quan đến tổ chức Đoàn được đề ra trong Nghị"
     " quyết (từng chỉ tiêu cụ thể và so sánh với chỉ tiêu của Nghị quyết)."),
    "2. Kết quả thực hiện các nhiệm vụ, giải pháp",
    ("2.1. Nâng cao nhận thức của cán bộ, đoàn viên, thanh niên và nhân dân đối với vị trí, "
     "vai trò của tổ chức Đoàn TNCS Hồ Chí Minh"),
    ("- Công tác quán triệt, triển khai, tuyên truyền các chỉ thị, nghị quyết của Đảng, chính "
     "sách của Nhà nước liên quan đến tổ chức Đoàn TNCS Hồ Chí Minh cho cán bộ, đoàn viên, "
     "thanh niên và quần chúng nhân dân."),
    ("- Công tác sơ kết, tổng kết các chỉ thị, nghị quyết của Đảng liên quan đến tổ chức Đoàn "
     "TNCS Hồ Chí Minh."),
    "2.2. Việc kiện toàn, củng cố, xây dựng tổ chức bộ máy và cán bộ",
    "* Công tác tổ chức bộ máy",
    ("- Việc xây dựng, sửa đổi, bổ sung và thực hiện quy chế làm việc của tổ chức Đoàn; kết "
     "quả thực hiện…"),
    "- Việc sắp xếp, kiện toàn tổ chức bộ máy.",
    ("- Thành lập chi đoàn - chi hội, phát triển đoàn viên trong các doanh nghiệp (có số liệu "
     "cụ thể về số lượng chi đoàn - chi hội, đoàn viên được thành lập, phát triển trong doanh "
     "nghiệp)."),
    ("- Tỷ lệ tập hợp, thu hút đoàn viên, thanh niên (số liệu cụ thể và so sánh với mục tiêu "
     "Nghị quyết, so sánh với trước khi thực hiện Nghị quyết)"),
    "* Công tác cán bộ",
    "- Kiện toàn đội ngũ cán bộ làm công tác Đoàn.",
    ("- Thực trạng đội ngũ cán bộ Đoàn tại cơ sở (số lượng, chất lượng, năng lực công tác, "
     "kinh nghiệm thực tiễn…). Số lượng tham gia cấp ủy, HĐND các cấp."),
    ("- Công tác đào tạo, bồi dưỡng, tập huấn chuyên môn, nghiệp vụ, lý luận cho cán bộ Đoàn "
     "(nội dung, số lớp, số lượng người được bồi dưỡng, tập huấn)."),
    "2.3. Đổi mới nội dung, phương thức hoạt động của tổ chức Đoàn",
    ("* Đổi mới công tác tuyên truyền, giáo dục chính trị, tư tưởng, nâng cao nhận thức cho "
     "cán bộ, đảng viên, đoàn viên, thanh niên."),
    "- Nội dung tuyên truyền, giáo dục.",
    ("- Hình thức tuyên truyền, giáo dục; các hình thức mới hiệu quả…; số cuộc tuyên truyền, "
     "số lượng người được tuyên truyền..."),
    "*. Đổi mới nội dung, hình thức sinh hoạt, tập hợp đoàn viên, thanh niên",
    ("- Xây dựng và thực hiện quy chế tham gia dự sinh hoạt với các chi đoàn (văn bản cụ thể, "
     "số cuộc tham gia dự sinh hoạt)."),
    ("- Việc thực hiện chế độ sinh hoạt định kỳ của chi đoàn; nội dung sinh hoạt; số cuộc/ nội"
     " dung sinh hoạt chuyên đề; chất lượng sinh hoạt (tỷ lệ tốt, khá)."),
    ("- Việc tổ chức, phối hợp tổ chức các cuộc tiếp xúc, đối thoại, trao đổi, tọa đàm với "
     "đoàn viên, thanh niên: số cuộc tiếp xúc, đối thoại; nội dung tiếp xúc, đối thoại; số "
     "người tham gia; số ý kiến tham gia."),
    ("- Công tác nắm bắt tình hình nhân dân, tình hình cơ sở, tâm tư, nguyện vọng của cán bộ, "
     "đoàn viên, thanh niên và nhân dân; việc tham mưu, đề xuất giải quyết các kiến nghị, đề "
     "xuất chính đáng của đoàn viên, thanh niên và nhân dân (nội dung, kết quả cụ thể)."),
    ("* Nâng cao chất lượng, hiệu quả các phong trào thi đua, các cuộc vận động (có số liệu cụ"
     " thể và so sánh với trước khi thực hiện Nghị quyết)"),
    ("- Kết quả tổ chức thực hiện các phong trào thi đua, các cuộc vận động của tổ chức Đoàn "
     "tham gia phát triển kinh tế - xã hội, giữ vững an ninh chính trị, trật tự an toàn xã "
     "hội, chăm lo vật chất tinh thần cho đoàn viên, thanh thiếu nhi và nhân dân (tên phong "
     "trào, số liệu cụ thể về kết quả thực hiện)."),
    ("- Cụ thể hoá các nhiệm vụ chính trị, nhất là các nhiệm vụ trọng tâm, khâu đột phá của "
     "huyện, của địa phương thành các phong trào, hoạt động."),
    ("- Kết quả thực hiện Đề án “Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội tích cực "
     "vận động đoàn viên, hội viên và các tầng lớp nhân dân tham gia đảm bảo vệ sinh môi "
     "trường, không sử dụng chất cấm trong sản xuất nông nghiệp và chấp hành pháp luật về an "
     "toàn giao thông, giai đoạn 2017 - 2020” (hoạt động cụ thể, mô hình, số liệu...)."),
    ("* Thực hiện hoạt động giám sát, phản biện xã hội và tham gia góp ý xây dựng Đảng, chính "
     "quyền theo Quyết định số 217-QĐ/TW, Quyết định số 218-QĐ/TW của Bộ Chính trị; tổ chức "
     "các hoạt động tiếp xúc đối thoại."),
    ("- Việc xây dựng kế hoạch, giám sát, phản biện xã hội và tham gia góp ý xây dựng Đảng, "
     "chính quyền hàng năm trình cấp uỷ phê duyệt."),
    "- Kết quả tổ chức giám sát: nội dung; số cuộc; số đơn vị được giám sát.",
    ("- Hoạt động phản biện xã hội; tham gia góp ý xây dựng Đảng, chính quyền: hình thức tổ "
     "chức; nội dung; số lượng hội nghị, số người tham gia, số ý kiến tham gia."),
    ("- Kết quả tổ chức các hoạt động tiếp xúc, đối thoại giữa đoàn viên, thanh niên và nhân "
     "dân với người đứng đầu cấp ủy, chính quyền."),
    ("2.4. Nâng cao hiệu quả thực hiện các chương trình phối hợp với chính quyền; tăng cường "
     "cơ sở vật chất và điều kiện làm việc cho tổ chức Đoàn"),
    "- Xây dựng và thực hiện quy chế, chương trình phối hợp với UBND.",
    "- Kết quả triển khai thực hiện các nội dung, chương trình phối hợp với chính quyền.",
    ("- Việc phối hợp thực hiện các hoạt động giám sát, phản biện xã hội và tham gia góp ý đối"
     " với các chương trình, đề án, dự phát phát triển kinh tế - xã hội liên quan đến đoàn "
     "viên, thanh niên và nhân dân."),
    ("- Phối hợp thực hiện chế độ chính sách, kinh phí, điều kiện hoạt động cho tổ chức Đoàn "
     "tại cơ sở."),
    "IV. NHỮNG TỒN TẠI HẠN CHẾ; NGUYÊN NHÂN VÀ BÀI HỌC KINH NGHIỆM",
    "1. Những tồn tại, hạn chế (nêu cụ thể)",
    "2. Nguyên nhân",
    "- Nguyên nhân chủ quan.",
    "- Nguyên nhân khách quan.",
    "3. Bài học kinh nghiệm",
    ("V. PHƯƠNG HƯỚNG, MỤC TIÊU, NHIỆM VỤ VÀ GIẢI PHÁP TIẾP TỤC THỰC HIỆN NGHỊ QUYẾT GIAI ĐOẠN"
     " 2021 - 2025"),
    "1. Phương hướng",
    "2. Mục tiêu cụ thể đến năm 2025",
    "3. Nhiệm vụ và giải pháp",
    "VI. KIẾN NGHỊ, ĐỀ XUẤT",
)

HEADING_161 = Heading(
    left=("TỈNH ĐOÀN THANH HÓA", "BCH ĐOÀN HUYỆN THỌ XUÂN", "***", "Số: 161-KH/ĐTN"),
    right=("ĐOÀN TNCS HỒ CHÍ MINH", "", "Thọ Xuân, ngày 06 tháng 01 năm 2020"),
)
SIGNATURE_161 = (
    ("Nơi nhận:", "- BTV Huyện ủy (b/c);", "- VP, Ban Dân vận Huyện ủy (b/c);",
     "- Các cơ sở Đoàn (t/h);", "- Lưu VP."),
    ("TM. BTV HUYỆN ĐOÀN", "BÍ THƯ", "(Đã ký)", "Nguyễn Thị Bích Phương"),
)

# The six appendices of seed 002, cell by cell as the seed shows them.
PL1 = DrawnTable(
    ("ĐƠN VỊ…………………………………",
     "Phụ lục 1: Các văn bản ban hành để triển khai, tổ chức thực hiện NQ 02-NQ/TU của Ban "
     "Thường vụ Tỉnh ủy"),
    ("TT | Thể loại văn bản | Số hiệu VB | Trích yếu nội dung văn bản",
     "1 | | |",
     "2 | | |",
     "3 | | |",
     "… | | |"),
)
_Q5 = "Thạc sỹ | ĐH | CĐ, TC | CC | TC"
PL2 = DrawnTable(
    ("Phụ lục 2: Tình hình đội ngũ cán bộ Đoàn chủ chốt cơ sở, Ủy viên Ban Thường vụ, Ban "
     "Chấp hành Đoàn",),
    ("Bí thư, Phó Bí thư Đoàn | < | < | < | < | Ban Thường vụ | < | < | < | < | < "
     "| Ban Chấp hành | < | < | < | < | <",
     "Số lượng | Trình độ | < | < | < | Số lượng | Trình độ | < | < | < | < "
     "| Số lượng | Trình độ | < | < | < | <",
     "^ | Chuyên môn | < | LLCT | < | ^ | Chuyên môn | < | < | LLCT | < "
     "| ^ | Chuyên môn | < | < | LLCT | <",
     f"^ | Thạc sỹ | ĐH | CN,CC | Trung cấp | ^ | {_Q5} | ^ | {_Q5}",
     " | " * 16),
)
_G3 = "Số lượng | Dân tộc thiểu số | Tôn giáo | Chuyên môn | < | < | LLCT | <"
PL3 = DrawnTable(
    ("Phụ lục 3: Chất lượng đội ngũ cán bộ Đoàn chủ chốt cơ sở; tham gia cấp ủy, HĐND xã, "
     "thị trấn",),
    ("Bí thư Đoàn | < | < | < | < | < | < | < | Phó Bí thư Đoàn | < | < | < | < | < | < | < "
     "| Tham gia cấp ủy | Tham gia HĐND xã, TT",
     f"{_G3} | {_G3} | ^ | ^",
     f"^ | ^ | ^ | {_Q5} | ^ | ^ | ^ | {_Q5} | ^ | ^",
     " | " * 17),
)
PL4 = DrawnTable(
    ("Phụ lục 4: Kết quả công tác bồi dưỡng, tập huấn chuyên môn, nghiệp vụ công tác Đoàn cho "
     "cán bộ cơ sở (2016-2020)",),
    ("Năm | Tham gia ở cấp tỉnh\n(số người tham gia) | Tham gia ở cấp huyện\n(số người tham "
     "gia) | Cơ sở tổ chức | < | Ghi chú",
     "^ | ^ | ^ | Số lớp (HN) | Số người\ntham gia | ^",
     *(f"{year} | | | | |" for year in range(2016, 2021))),
)
PL5 = DrawnTable(
    ("Phụ lục 5:Tổng hợp kết quả thực hiện một số chỉ tiêu, nhiệm vụ giai đoạn 2016-2020 (Tính "
     "đến tháng 12/2020)",),
    ("Tỷ lệ thu hút, tập hợp đoàn viên, thanh niên | < | Thành lập tổ chức mới\n(số lượng tổ "
     "chức/số đoàn viên) | Dự sinh hoạt với chi đoàn | Kiểm tra, làm việc với chi đoàn | Vận "
     "động hỗ trợ làm nhà cho ĐV, TTN và nhân dân | < | Vận động thành lập DN | Tỷ lệ ĐV, TN "
     "tham gia BHYT | Tỷ lệ hộ nghèo do ĐV, TN làm chủ",
     "Chỉ tiêu NQ 02-NQ/TU | Kết quả\nthực hiện | ^ | ^ | ^ | Số lượng nhà\n(nhà) | Số tiền\n"
     "(triệu đồng) | ^ | ^ | ^",
     " | " * 9),
)
PL6 = DrawnTable(
    ("Phụ lục 6: Kết quả hoạt dộng giám sát, phản biện xã hội; tổ chức tiếp xúc, đối thoại",),
    ("Năm | Giám sát\n(số cuộc/số đơn vị) | Phản biện, góp ý xây dựng Đảng, chính quyền | Tổ "
     "chức tiếp xúc, đối thoại\n(hội nghị) | Ghi chú",
     *(f"{year} | | | |" for year in range(2016, 2021))),
)
TABLES_161 = (PL1, PL2, PL3, PL4, PL5, PL6)


# --------------------------------------------------------------------------- plan 40-KH/ĐTN

HEADING_40 = Heading(
    left=("TỈNH ĐOÀN THANH HOÁ", "BCH ĐOÀN HUYỆN TRIỆU SƠN", "***", "Số: 40 - KH/ĐTN"),
    right=("ĐOÀN TNCS HỒ CHÍ MINH", "", "Triệu Sơn, ngày 10 tháng 3 năm 2020"),
)
BODY_40 = (
    "KẾ HOẠCH",
    "Đánh giá giữa nhiệm kỳ kết quả thực hiện Nghị quyết Đại hội Đoàn các cấp",
    "Nghị quyết Đại hội Đoàn toàn huyện lần thứ XV, nhiệm kỳ 2017 - 2022",
    "-----------",
    ("Thực hiện Chương trình làm việc toàn khóa của Ban Chấp hành Đoàn huyện Triệu Sơn khóa XV,"
     " Chương trình công tác của Ban Thường vụ Huyện đoàn năm 2020, Ban Thường vụ Huyện đoàn "
     "ban hành kế hoạch đánh giá giữa nhiệm kỳ, cụ thể như sau:"),
    "III. HÌNH THỨC, TIẾN ĐỘ THỰC HIỆN",
    ("1. Hình thức: Xây dựng báo cáo và tổ chức hội nghị sơ kết giữa nhiệm kỳ (có thể lồng "
     "ghép trong hội nghị Ban Chấp hành hoặc hội nghị chuyên đề khác)."),
    "2. Tiến độ thực hiện:",
    "- Cấp cơ sở: xong trước 15/4/2020",
    "- Cấp huyện: xong trước 15/5/2020.",
    "IV. TỔ CHỨC THỰC HIỆN",
    "1. Huyện đoàn",
    ("- Ban hành kế hoạch đánh giá giữa nhiệm kỳ kết quả thực hiện Nghị quyết Đại hội Đoàn các "
     "cấp, Nghị quyết Đại hội Đoàn toàn huyện lần thứ XV, nhiệm kỳ 2017 – 2022 kèm theo đề "
     "cương báo cáo."),
    "2. Các cơ sở đoàn trực thuộc",
    ("- Xây dựng báo cáo sơ kết đánh giá giữa nhiệm kỳ thực hiện Nghị quyết Đại hội Đoàn cấp "
     "của mình và Nghị quyết Đại hội Đoàn cấp huyện lần thứ XV, nhiệm kỳ 2017 – 2022, kèm theo "
     "bảng phụ lục số liệu về kết quả thực hiện chỉ tiêu nhiệm kỳ do Ban Thường vụ Huyện đoàn "
     "đã ban hành và phân bổ cho các đơn vị về Văn phòng Huyện đoàn trước ngày 10/4/2020."),
)
# The built-in mid-term campaign's indicators (schemas/giua-nhiem-ky-2017-2022/ct.yaml) as an
# office draws them: target given / result (number, %) / expected, one indicator a row.
CT_40 = DrawnTable(
    ("Phụ lục 1", "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU NHIỆM KỲ 2017 - 2022 ĐẾN THỜI ĐIỂM ĐÁNH GIÁ "
                  "GIỮA NHIỆM KỲ"),
    ("TT | Chỉ tiêu | ĐVT | Chỉ tiêu được giao | Kết quả đến thời điểm đánh giá | < "
     "| Dự kiến đến cuối nhiệm kỳ | Ghi chú",
     "^ | ^ | ^ | ^ | Số lượng | Tỷ lệ % | ^ | ^",
     "(1) | (2) | (3) | (4) | (5) | (6) | (7) | (8)",
     "1 | Trang bị kỹ năng thực hành xã hội cho đoàn viên, thanh niên | người | | | | |",
     "2 | Thành lập mới chi đoàn, tổ chức Đoàn | chi đoàn | | | | |",
     "3 | Phát triển đoàn viên mới | đoàn viên | | | | |",
     "4 | Giới thiệu đoàn viên ưu tú cho Đảng xem xét kết nạp | đoàn viên | | | | |",
     "5 | Tỷ lệ cơ sở Đoàn (chi đoàn) xếp loại vững mạnh | % | 70% | | | |",
     "6 | Thanh niên được hỗ trợ học nghề, giới thiệu việc làm | người | | | | |",
     "7 | Công trình thanh niên tham gia xây dựng nông thôn mới | công trình | | | | |",
     "8 | Tổ chức tuyên truyền, giáo dục pháp luật cho đoàn viên, thanh niên | buổi | | | | |",
     "9 | Tỷ lệ thanh niên được tập hợp vào tổ chức Đoàn, Hội | % | | | | |"),
)
CTR_40 = DrawnTable(
    ("Phụ lục 2", "KẾT QUẢ THỰC HIỆN CÁC CHƯƠNG TRÌNH, CÔNG TRÌNH CỦA NGHỊ QUYẾT ĐẠI HỘI"),
    ("TT | Tên chương trình, công trình | Tình trạng | Kết quả | < | <",
     "^ | ^ | ^ | Số đoàn viên, thanh niên tham gia, hưởng lợi | Kinh phí (triệu đồng) "
     "| Kết quả nổi bật",
     "1 | | | | |",
     "2 | | | | |",
     "… | | | | |"),
)


def plan_161(*, tables: Sequence[DrawnTable] = TABLES_161) -> PlanDoc:
    return PlanDoc(HEADING_161, BODY_161, tuple(tables), SIGNATURE_161, OUTLINE_161)


def plan_40() -> PlanDoc:
    return PlanDoc(HEADING_40, BODY_40, (CT_40, CTR_40))


# --------------------------------------------------------------------------- .docx


def _centered_bold(paragraph: docx.text.paragraph.Paragraph) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in paragraph.runs:
        run.bold = True


def _lines_in_cell(cell: docx.table._Cell, lines: Sequence[str]) -> None:
    cell.text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)
    for paragraph in cell.paragraphs:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def add_table(document: docx.document.Document, table: DrawnTable) -> docx.table.Table:
    """The drawn table as a Word table ("Table Grid" borders), merged with ``cell.merge``."""
    grid = table.grid
    out = document.add_table(rows=len(grid), cols=len(grid[0]))
    out.style = "Table Grid"
    for r, c, r1, c1, text in merges(grid):
        cell = out.cell(r, c)
        if (r1, c1) != (r, c):
            cell = cell.merge(out.cell(r1, c1))
        cell.text = text
    return out


def build_docx(plan: PlanDoc, *, heading_as: str = "table") -> bytes:
    """A Word plan: heading block (a borderless 2-column table, or plain paragraphs), body,
    signature block, the ĐỀ CƯƠNG on a new page, then each appendix on a new page."""
    document = docx.Document()
    if plan.heading is not None:
        if heading_as == "table":
            block = document.add_table(rows=1, cols=2)  # default style: no borders
            _lines_in_cell(block.cell(0, 0), plan.heading.left)
            _lines_in_cell(block.cell(0, 1), plan.heading.right)
        else:
            for line in (*plan.heading.left, *plan.heading.right):
                document.add_paragraph(line)
    title = True
    for text in plan.body:
        paragraph = document.add_paragraph(text)
        if title:
            _centered_bold(paragraph)
            title = not text.startswith("---")
    if plan.signature is not None:
        block = document.add_table(rows=1, cols=2)
        _lines_in_cell(block.cell(0, 0), plan.signature[0])
        _lines_in_cell(block.cell(0, 1), plan.signature[1])
    if plan.outline:
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for i, text in enumerate(plan.outline):
            paragraph = document.add_paragraph(text)
            if i == 0:
                _centered_bold(paragraph)
    for table in plan.tables:
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for line in table.caption:
            _centered_bold(document.add_paragraph(line))
        add_table(document, table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_of(paragraphs: Sequence[str] = (), tables: Sequence[DrawnTable] = ()) -> bytes:
    """A small Word file: paragraphs, then the tables with their captions."""
    return build_docx(PlanDoc(None, tuple(paragraphs), tuple(tables)))


def irregular_docx(kind: int) -> bytes:
    """A Word table whose merges do not line up (python-docx refuses to draw one, so the XML
    is edited): 0 — a vertical continuation two columns wide under a one-column cell;
    1 — a continuation shifted one column right of the two-column cell above it."""
    document = docx.Document()
    document.add_paragraph("Phụ lục 1: Biểu hỏng")
    table = document.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    for c, text in enumerate(("Nội dung", "Số lượng", "Ghi chú")):
        table.cell(0, c).text = text
    rows = table._tbl.tr_lst
    first = rows[0].tc_lst
    second = rows[1].tc_lst
    if kind == 0:
        first[0].get_or_add_tcPr().append(_el("w:vMerge", restart=True))
        second[0].get_or_add_tcPr().append(_el("w:vMerge"))
        second[0].get_or_add_tcPr().append(_el("w:gridSpan", val="2"))
        rows[1].remove(second[1])
    else:
        first[0].get_or_add_tcPr().append(_el("w:gridSpan", val="2"))
        first[0].get_or_add_tcPr().append(_el("w:vMerge", restart=True))
        rows[0].remove(first[1])
        second[1].get_or_add_tcPr().append(_el("w:vMerge"))
        second[1].get_or_add_tcPr().append(_el("w:gridSpan", val="2"))
        rows[1].remove(second[2])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _el(tag: str, *, val: str | None = None, restart: bool = False) -> object:
    element = OxmlElement(tag)
    if val is not None:
        element.set(qn("w:val"), val)
    if restart:
        element.set(qn("w:val"), "restart")
    return element


# --------------------------------------------------------------------------- .xlsx

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def build_xlsx(tables: Sequence[DrawnTable], *, heading: Sequence[str] = (),
               borders: bool = True) -> bytes:
    """One sheet per appendix: the caption lines on top, a blank row, then the table with
    merged cells and thin borders, as an office draws it in Excel. ``heading`` lines go on
    top of the first sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for i, table in enumerate(tables, 1):
        ws = book.create_sheet(f"PL{i}")
        row = 1
        for line in (*(heading if i == 1 else ()), *table.caption):
            ws.cell(row, 1, line).font = Font(bold=True)
            row += 1
        row += 1
        grid = table.grid
        if borders:
            for r in range(len(grid)):
                for c in range(len(grid[0])):
                    ws.cell(row + r, 1 + c).border = _BOX
        for r, c, r1, c1, text in merges(grid):
            value: object = int(text) if text.isdigit() else (text or None)
            cell = ws.cell(row + r, 1 + c, value)
            cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
            if (r1, c1) != (r, c):
                ws.merge_cells(start_row=row + r, start_column=1 + c, end_row=row + r1,
                               end_column=1 + c1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def overlapping_xlsx() -> bytes:
    """A sheet whose merged ranges share a cell (B3): Excel never writes that, an edited
    file can."""
    data = build_xlsx([DrawnTable(("Phụ lục 1: Biểu hỏng",),
                                  ("Nội dung | Số lượng | < | Ghi chú",
                                   "^ | Nam | Nữ | ^",
                                   "Đoàn viên | | |"))])
    return _rewrite(data, "xl/worksheets/sheet1.xml",
                    lambda xml: xml.replace(b'<mergeCell ref="B3:C3"/>',
                                            b'<mergeCell ref="B3:C3"/><mergeCell ref="B3:B4"/>'
                                            ).replace(b'count="2"', b'count="3"'))


def _rewrite(data: bytes, member: str, change: object) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == member:
                content = change(content)  # type: ignore[operator]
            out.writestr(copy.copy(info), content)
    return buffer.getvalue()


# --------------------------------------------------------------------------- hostile files


def zip_bomb_docx(inflated: int = 20 * 1024 * 1024) -> bytes:
    """A real docx whose ``word/document.xml`` says it is small but inflates to
    ``inflated`` bytes (the declared size in the zip directory is a lie)."""
    plain = docx_of(["Phụ lục 1"], [PL1])
    src = zipfile.ZipFile(io.BytesIO(plain))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                out.writestr(info.filename, b"<" + b" " * inflated + b">")
            else:
                out.writestr(info.filename, src.read(info.filename))
    data = bytearray(buffer.getvalue())
    # lower the declared uncompressed size of document.xml in the central directory
    marker = b"PK\x01\x02"
    pos = data.find(marker)
    while pos != -1:
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        name = bytes(data[pos + 46:pos + 46 + name_len])
        if name == b"word/document.xml":
            data[pos + 24:pos + 28] = (4096).to_bytes(4, "little")
        pos = data.find(marker, pos + 4)
    return bytes(data)


def ratio_bomb_docx(inflated: int = 60 * 1024 * 1024) -> bytes:
    """A docx with an honest but absurd member: 60 MB of spaces in a few dozen KB."""
    plain = docx_of(["Phụ lục 1"], [PL1])
    return _rewrite(plain, "word/document.xml", lambda xml: b"<" + b" " * inflated + b">")


def dtd_docx() -> bytes:
    """A docx whose document part declares entities ("billion laughs")."""
    plain = docx_of(["Phụ lục 1"], [PL1])
    laugh = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
             b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>')
    return _rewrite(plain, "word/document.xml",
                    lambda xml: laugh + xml.split(b"?>", 1)[1])


# --------------------------------------------------------------------------- random tables

WORDS = ("Số lượng", "Tỷ lệ (%)", "Ghi chú", "Năm", "TT", "Nội dung", "Số tiền (triệu đồng)",
         "Thạc sỹ", "ĐH", "LLCT", "Kết quả", "Chỉ tiêu giao", "Giám sát (số cuộc/số đơn vị)",
         "Tổng số", "Xã A", "", "", "2020", "1", "(1)", "Hình thức", "Ngày ban hành",
         "Tên đơn vị", "Tỷ lệ hộ nghèo", "Đơn vị", "ĐVT", "người", "Tổng cộng", "I", "…",
         "Số người (người)", "Kỹ năng xã hội", "x", "70%", "Thể loại văn bản", "Số hiệu/ký hiệu")


def random_table(seed: int) -> DrawnTable:
    """A table of 1–7 rows and 1–8 columns of plan words with random rectangular merges:
    whatever it is, reading it gives a loadable proposal or a :class:`PlanError`."""
    import random

    rng = random.Random(seed)
    rows, cols = rng.randint(1, 7), rng.randint(1, 8)
    grid: list[list[str | None]] = [[None] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] is not None:
                continue
            w = 1
            while c + w < cols and grid[r][c + w] is None and rng.random() < 0.25:
                w += 1
            h = 1
            while (r + h < rows and all(grid[r + h][cc] is None for cc in range(c, c + w))
                   and rng.random() < 0.25):
                h += 1
            grid[r][c] = rng.choice(WORDS)
            for rr in range(r, r + h):
                for cc in range(c, c + w):
                    if (rr, cc) != (r, c):
                        grid[rr][cc] = "^" if cc == c else "<"
    return DrawnTable(("Phụ lục 1: Biểu thử",),
                      tuple(" | ".join(cell or "" for cell in row) for row in grid))
