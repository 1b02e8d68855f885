-- A report block whose data are absent prints a div of class "stats-unavailable"
-- ("Not available: <why>", or nothing when the page said it once already). Quarto wraps a
-- labelled cell's output in a numbered float ("Figure 1: ..."); this filter runs before
-- Quarto's cross-reference pass and unwraps such floats, so the note stands as a plain
-- paragraph, and references to them read "(not available)". The offline renderer does
-- the same (stats.render.markdown), so both renderers build the same pages.
local CLASS = "stats-unavailable"
local ABSENT = "(not available)"

function Pandoc(doc)
  local removed = {}
  doc = doc:walk({
    Div = function(el)
      local id = el.identifier or ""
      if not (id:match("^fig%-") or id:match("^tbl%-")) then
        return nil
      end
      local notes = pandoc.List()
      el:walk({
        Div = function(inner)
          if inner.classes:includes(CLASS) then
            notes:insert(inner)
          end
        end,
      })
      if #notes == 0 then
        return nil
      end
      removed[id] = true
      return notes
    end,
  })
  return doc:walk({
    Cite = function(cite)
      for _, citation in ipairs(cite.citations) do
        if removed[citation.id] then
          return pandoc.Str(ABSENT)
        end
      end
    end,
  })
end
