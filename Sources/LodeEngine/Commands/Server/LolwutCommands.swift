import Foundation
import LodeRESP

/// LOLWUT, as Redis 7.0's lolwut.c: the version line, or with VERSION 5 Georg Nees's
/// "Schotter" in braille and with VERSION 6 a skyline in ANSI colours (both random,
/// as in Redis). Ported from lolwut.c, lolwut5.c and lolwut6.c.
enum LolwutCommands {
    static let handlers: [String: CommandHandler] = ["lolwut": lolwut]

    static func lolwut(_ c: inout CommandContext) throws(CommandError) {
        var version = LodeVersion.redisCompatible
        var first = 1
        if c.args.count >= 3 && c.argIs(1, "version") {
            version = "\(UInt32(truncatingIfNeeded: try c.integer(2))).0.0"
            first = 3
        }
        // Only the art versions read (and check) their numeric arguments, as in Redis.
        func numbers() throws(CommandError) -> [Int] {
            var parsed: [Int] = []
            for i in first..<c.args.count { parsed.append(try c.integer(i)) }
            return parsed
        }
        let text: String
        if version.hasPrefix("5.") && !version.hasPrefix("5.9") || version.hasPrefix("4.9") {
            text = schotter(try numbers())
        } else if version.hasPrefix("6.") && !version.hasPrefix("6.9") || version.hasPrefix("5.9") {
            text = skyline(try numbers())
        } else {
            text = "Redis ver. \(LodeVersion.redisCompatible)\n"
        }
        c.out.writeVerbatim(text, version: c.resp)
    }

    /// lwCanvas: one byte per pixel.
    struct Canvas {
        let width, height: Int
        var pixels: [UInt8]

        init(width: Int, height: Int, color: UInt8) {
            (self.width, self.height) = (width, height)
            pixels = [UInt8](repeating: color, count: max(0, width * height))
        }

        mutating func draw(_ x: Int, _ y: Int, _ color: UInt8) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            pixels[x + y * width] = color
        }

        func pixel(_ x: Int, _ y: Int) -> UInt8 {
            guard x >= 0, x < width, y >= 0, y < height else { return 0 }
            return pixels[x + y * width]
        }

        /// Bresenham's line, as lwDrawLine.
        mutating func line(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, _ color: UInt8) {
            var (x, y) = (x1, y1)
            let (dx, dy) = (abs(x2 - x1), abs(y2 - y1))
            let (sx, sy) = (x1 < x2 ? 1 : -1, y1 < y2 ? 1 : -1)
            var err = dx - dy
            while true {
                draw(x, y, color)
                if x == x2 && y == y2 { break }
                let e2 = err * 2
                if e2 > -dy { err -= dy; x += sx }
                if e2 < dx { err += dx; y += sy }
            }
        }

        /// lwDrawSquare: a square of side `size` centred on (x, y), rotated by `angle`.
        mutating func square(_ x: Int, _ y: Int, _ size: Float, _ angle: Float, _ color: UInt8) {
            let side = (size / 1.4142135623).rounded()
            var k = Float.pi / 4 + angle
            var px = [Int](), py = [Int]()
            for _ in 0..<4 {
                px.append(Int((sin(k) * side + Float(x)).rounded()))
                py.append(Int((cos(k) * side + Float(y)).rounded()))
                k += Float.pi / 2
            }
            for j in 0..<4 { line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color) }
        }
    }

    private static func clamp(_ numbers: [Int], _ index: Int, _ fallback: Int, _ limit: Int) -> Int {
        min(max(index < numbers.count ? numbers[index] : fallback, 1), limit)
    }

    /// lolwut5Command: LOLWUT VERSION 5 [columns] [squares per row] [squares per column].
    static func schotter(_ numbers: [Int]) -> String {
        let cols = clamp(numbers, 0, 66, 1000), perRow = clamp(numbers, 1, 8, 200), perCol = clamp(numbers, 2, 12, 200)
        let width = cols * 2, padding = width > 4 ? 2 : 0
        let side = Float(width - padding * 2) / Float(perRow)
        var canvas = Canvas(width: width, height: Int(side * Float(perCol)) + padding * 2, color: 0)
        for y in 0..<perCol {
            for x in 0..<perRow {
                var sx = Int(Float(x) * side + side / 2) + padding
                var sy = Int(Float(y) * side + side / 2) + padding
                var angle: Float = 0
                if y > 1 {
                    func random() -> Float {
                        let r = Float.random(in: 0...1) / Float(perCol) * Float(y)
                        return Bool.random() ? -r : r
                    }
                    angle = random()
                    sx += Int(random() * side / 3)
                    sy += Int(random() * side / 3)
                }
                canvas.square(sx, sy, side, angle, 1)
            }
        }
        // Braille: each character shows a 2x4 block of pixels (U+2800 + dot bits).
        var text = ""
        for y in stride(from: 0, to: canvas.height, by: 4) {
            for x in stride(from: 0, to: canvas.width, by: 2) {
                let bits = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
                var byte = 0
                for (bit, (dx, dy)) in bits.enumerated() where canvas.pixel(x + dx, y + dy) != 0 { byte |= 1 << bit }
                text.unicodeScalars.append(Unicode.Scalar(0x2800 + byte)!)
            }
            if y != canvas.height - 1 { text += "\n" }
        }
        return text + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. \(LodeVersion.redisCompatible)\n"
    }

    /// lolwut6Command: LOLWUT VERSION 6 [columns] [rows].
    static func skyline(_ numbers: [Int]) -> String {
        let cols = clamp(numbers, 0, 80, 1000), rows = clamp(numbers, 1, 20, 1000)
        var canvas = Canvas(width: cols, height: rows, color: 3)
        func skyscraper(_ xoff: Int, _ width: Int, _ height: Int, windows: Bool, color: UInt8) {
            let starty = canvas.height - 1, endy = starty - height + 1
            guard endy <= starty else { return }
            for y in stride(from: starty, through: endy, by: -1) {
                for x in xoff..<(xoff + width) {
                    if y == endy && (x <= xoff + 1 || x >= xoff + width - 2) { continue }
                    var pixel = color
                    if windows && x > xoff + 1 && x < xoff + width - 2 && y > endy + 1 && y < starty - 1 {
                        let relx = x - (xoff + 1), rely = y - (endy + 1)
                        if relx / 2 % 2 != 0 && rely % 2 != 0 {
                            repeat { pixel = UInt8(1 + Int.random(in: 0...1)) } while pixel == color
                            if relx % 2 != 0 { pixel = canvas.pixel(x - 1, y) }
                        }
                    }
                    canvas.draw(x, y, pixel)
                }
            }
        }
        for color in stride(from: 2, through: 1, by: -1) {
            var offset = -10
            while offset < canvas.width {
                offset += Int.random(in: 0..<8)
                let width = 10 + Int.random(in: 0..<9)
                let height = canvas.height / 2 + (color == 2 ? Int.random(in: 0..<max(1, canvas.height)) / 2
                                                              : Int.random(in: 0..<max(1, canvas.height)) / 3)
                skyscraper(offset, width, height, windows: false, color: UInt8(color))
                offset += color == 2 ? width / 2 : width + 1
            }
        }
        var offset = -10
        while offset < canvas.width {
            offset += Int.random(in: 0..<8)
            var width = 5 + Int.random(in: 0..<14)
            if width % 4 != 0 { width += width % 3 }
            skyscraper(offset, width, canvas.height / 3 + Int.random(in: 0..<max(1, canvas.height)) / 2, windows: true, color: 0)
            offset += width + 5
        }
        let escapes = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"]
        var text = ""
        for y in 0..<canvas.height {
            for x in 0..<canvas.width { text += "\u{1b}[\(escapes[Int(canvas.pixel(x, y)) & 3]) \u{1b}[0m" }
            if y != canvas.height - 1 { text += "\n" }
        }
        return text + "\nDedicated to the 8 bit game developers of past and present.\n"
            + "Original 8 bit image from Plaguemon by hikikomori. Redis ver. \(LodeVersion.redisCompatible)\n"
    }
}
