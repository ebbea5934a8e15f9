-- The same request every time, its Authorization (if any) given to wrk with -H: wrk's static
-- fast path, with no Lua per request. Responses are counted by status class only (wrk's summary).
dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'report.lua')
