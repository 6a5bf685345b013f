// The interface in Chinese and English. Layer titles and field names come
// from the server in both languages; these are the words of the map itself.

const words = {
  zh: {
    title: '海门港新区规划用地',
    skip: '跳到图层面板',
    skipMap: '跳到地图',
    panel: '图层面板',
    search: '搜索地名',
    searchPlaceholder: '搜索地名，如 港西、生态公园',
    noResults: '没有找到',
    layers: '图层',
    legend: '图例',
    tools: '工具',
    downloads: '下载',
    about: '关于与接口',
    approx: '位置为根据公开描述手绘的示意，并非测绘数据。',
    measureDistance: '量距离',
    measureArea: '量面积',
    measureStop: '结束测量',
    measureHint: '在地图上点击（或轻触）加点；双击、按 Enter 或“完成测量”结束，Esc 取消。',
    distance: '距离',
    area: '面积',
    copyLink: '复制链接',
    copied: '链接已复制',
    copyFailed: '请复制下面的链接',
    downloadAll: '全部图层 GeoPackage',
    inView: '视图内',
    loading: '加载中…',
    loadFailed: '加载失败',
    zoomIn: '放大后显示',
    liveUpdated: '已更新',
    mapLabel: '海门港新区规划地图',
    landuse: '用地',
    status: '状态',
    position: '位置可信度',
    areaLabel: '面积',
    lengthLabel: '长度',
    source: '原文',
    plotSheet: '地块图则（打印）',
    print: '打印地图',
    stats: '统计',
    statsScope: '范围',
    statsGroup: '分组',
    scopeDistrict: '全区',
    scopeView: '当前视图',
    scopeFilter: '当前筛选',
    scopeSelection: '所选要素',
    byClass: '按用地大类',
    byStatus: '按状态',
    statsTotal: '合计',
    statsNone: '未分类',
    statsEmpty: '无要素',
    statsNote: '有用地分类的可见面状图层（不含新区范围与周边）的要素个数与椭球面积。',
    statsNoteView: '有用地分类的可见面状图层（不含新区范围与周边）在当前视图内的部分：被视图裁切的要素只计框内面积。',
    statsAsOf: '截至',
    statsCompare: '对比',
    statsChangeNote: '各组后面的数为与对比日期相比的面积变化（亩）；日期指当日结束时。',
    statsTransitions: '状态转变（按截至日期的面积）：',
    printTitle: '标题',
    printPaper: '纸张',
    printOrientation: '方向',
    landscape: '横向',
    portrait: '纵向',
    printNow: '打印…',
    printClose: '返回地图',
    savePNG: '保存为 PNG',
    pngMaking: '正在生成 PNG…',
    pngFailed: '未能生成 PNG',
    printDate: '制图日期',
    printSource: '数据来源：planmap 海门港新区规划用地图层，据《海门港新区：港产城融合新高地》（2020年末）等公开报道手绘。',
    hectares: '公顷',
    mu: '亩',
    metres: '米',
    km: '千米',
    confidence: { high: '高', medium: '中', low: '低' },
    statuses: { planned: '规划', signed: '已签约', under_construction: '在建', in_operation: '已建成' },
    classes: {
      R: '居住用地', A: '公共管理与公共服务用地', B: '商业服务业用地', M: '工业用地', W: '物流仓储用地',
      S: '道路与交通设施用地', H: '区域交通设施用地', U: '公用设施用地', G: '绿地与广场用地', E: '水域',
    },
    confidenceLegend: '位置可信度：实线 高，短虚线 中，点线 低',
    underPoint: '此处的要素',
    measureFinish: '完成测量',
    north: '上为正北',
    wholeDistrict: '显示全区',
    otherSymbols: '其他图层',
    filter: '筛选',
    shown: '显示',
    clearFilter: '清除筛选',
    table: '表格',
    tableLayer: '图层',
    tableSearch: '在表中搜索',
    name: '名称',
    compare: '并排比较',
    exportSelection: '导出所选 GeoJSON',
    exportFiltered: '导出筛选结果 GeoJSON',
    selected: '已选',
    closeTable: '关闭表格',
    closeCompare: '关闭比较',
    field: '字段',
    features: '个要素',
    unknownLayer: '链接中的图层不存在',
    searchFailed: '搜索失败',
    countFailed: '无法统计',
    filterDownloads: '正在筛选：上面的下载链接为全部要素，“视图内”与“导出筛选结果”只含筛选出的要素。',
    links: {
      'this document': '本页', 'this document as HTML': '本页（HTML）', 'this document as JSON': '本页（JSON）',
      'the API definition (OpenAPI 3.0)': '接口定义（OpenAPI 3.0）', 'the API documentation': '接口文档',
      'OGC API conformance classes implemented': '实现的 OGC API 一致性类', 'the layers': '图层列表',
      'every layer as one GeoPackage': '全部图层（一个 GeoPackage）', 'every layer as KML': '全部图层（KML）',
    },
  },
  en: {
    title: 'Haimen Port New Area: planned land use',
    skip: 'Skip to the layer panel',
    skipMap: 'Skip to the map',
    panel: 'Layer panel',
    search: 'Search by name',
    searchPlaceholder: 'Search, e.g. Gangxi, eco-park',
    noResults: 'Nothing found',
    layers: 'Layers',
    legend: 'Legend',
    tools: 'Tools',
    downloads: 'Downloads',
    about: 'About and API',
    approx: 'Positions are hand-drawn approximations from public descriptions, not survey data.',
    measureDistance: 'Measure distance',
    measureArea: 'Measure area',
    measureStop: 'Stop measuring',
    measureHint: 'Click or tap the map to add points; double-click, Enter or “Finish measuring” to finish, Esc to cancel.',
    distance: 'Distance',
    area: 'Area',
    copyLink: 'Copy link',
    copied: 'Link copied',
    copyFailed: 'Copy the link below',
    downloadAll: 'All layers as GeoPackage',
    inView: 'in view',
    loading: 'Loading…',
    loadFailed: 'Loading failed',
    zoomIn: 'Zoom in to see',
    liveUpdated: 'Updated',
    mapLabel: 'Map of Haimen Port New Area',
    landuse: 'Land use',
    status: 'Status',
    position: 'Position confidence',
    areaLabel: 'Area',
    lengthLabel: 'Length',
    source: 'Source',
    plotSheet: 'Plot sheet (print)',
    print: 'Print map',
    stats: 'Statistics',
    statsScope: 'Of',
    statsGroup: 'By',
    scopeDistrict: 'whole district',
    scopeView: 'current view',
    scopeFilter: 'current filter',
    scopeSelection: 'selection',
    byClass: 'land-use class',
    byStatus: 'status',
    statsTotal: 'Total',
    statsNone: 'unclassified',
    statsEmpty: 'No features',
    statsNote: 'Count and geodesic area of the visible area layers with a land-use class (not the district boundary or the region).',
    statsNoteView: 'The visible area layers with a land-use class (not the district boundary or the region) inside the view: a feature cut by it counts only its part inside.',
    statsAsOf: 'As of',
    statsCompare: 'Compare with',
    statsChangeNote: 'The number after each group is its change in mu since the date compared with; a date means the end of that day.',
    statsTransitions: 'Changes of stage (area as of the later date):',
    printTitle: 'Title',
    printPaper: 'Paper',
    printOrientation: 'Orientation',
    landscape: 'Landscape',
    portrait: 'Portrait',
    printNow: 'Print…',
    printClose: 'Back to the map',
    savePNG: 'Save as PNG',
    pngMaking: 'Making the PNG…',
    pngFailed: 'Could not make the PNG',
    printDate: 'Date',
    printSource: 'Source: planmap layers of Haimen Port New Area, drawn by hand from public reports, chiefly “海门港新区：港产城融合新高地” (late 2020).',
    hectares: 'ha',
    mu: 'mu',
    metres: 'm',
    km: 'km',
    confidence: { high: 'high', medium: 'medium', low: 'low' },
    statuses: { planned: 'planned', signed: 'signed', under_construction: 'under construction', in_operation: 'in operation' },
    classes: {
      R: 'Residential', A: 'Public services', B: 'Commercial', M: 'Industrial', W: 'Logistics and warehouses',
      S: 'Roads and transport', H: 'Regional transport', U: 'Utilities', G: 'Green space', E: 'Water',
    },
    confidenceLegend: 'Position confidence: solid high, dashed medium, dotted low',
    underPoint: 'Features here',
    measureFinish: 'Finish measuring',
    north: 'North is up',
    wholeDistrict: 'Show the whole district',
    otherSymbols: 'Other layers',
    filter: 'Filter',
    shown: 'Shown',
    clearFilter: 'Clear filter',
    table: 'Table',
    tableLayer: 'Layer',
    tableSearch: 'Search the table',
    name: 'Name',
    compare: 'Compare side by side',
    exportSelection: 'Export selection as GeoJSON',
    exportFiltered: 'Export filtered features as GeoJSON',
    selected: 'selected',
    closeTable: 'Close the table',
    closeCompare: 'Close the comparison',
    field: 'Field',
    features: 'features',
    unknownLayer: 'The link names layers that do not exist',
    searchFailed: 'Search failed',
    countFailed: 'Could not count',
    filterDownloads: 'Filter on: the download links above hold every feature; “in view” and “export filtered” hold only the features the filter shows.',
    links: {},
  },
};

let current = 'zh';

export function lang() { return current; }

export function setLang(l) { current = l === 'en' ? 'en' : 'zh'; }

// defaultLang is Chinese unless the browser prefers another language.
export function defaultLang() {
  const pref = (navigator.languages && navigator.languages[0]) || navigator.language || 'zh';
  return pref.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function t(key) {
  const v = words[current][key];
  return v === undefined ? key : v;
}

// pick returns the text of a {zh, en} pair in the current language.
export function pick(text) {
  if (!text) return '';
  return text[current] || text.zh || text.en || '';
}

// nameOf is a feature's name in the current language, else in the other.
export function nameOf(props) {
  const p = props || {};
  return current === 'en' ? p.name_en || p.name_zh || '' : p.name_zh || p.name_en || '';
}

// translate fills the page's static labels.
export function translate(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-Hans' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  // The About links come from the server in English.
  for (const a of root.querySelectorAll('.about a')) {
    if (!a.dataset.en) a.dataset.en = a.textContent;
    a.textContent = t('links')[a.dataset.en] || a.dataset.en;
  }
}
